from rest_framework import serializers

from blog.models import BlogUser, Post
from core.api.serializers import StrictQuerySerializer, StrictSerializerMixin

INT4_MAX = 2**31 - 1


class BlogUserSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = BlogUser
        fields = ["id", "username", "email", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"is_active": {"allow_null": False}}


class PostSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    user_id = serializers.PrimaryKeyRelatedField(
        source="user", queryset=BlogUser.objects.all(), help_text="id of the author (a blog user)"
    )

    class Meta:
        model = Post
        fields = ["id", "title", "content", "user_id", "is_published", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"is_published": {"allow_null": False}}


class SearchQuery(StrictQuerySerializer):
    search = serializers.CharField(required=False, max_length=100, allow_blank=True,
                                   help_text="case-insensitive substring")


class BlogUserQuery(SearchQuery):
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)


class PostQuery(SearchQuery):
    is_published = serializers.BooleanField(required=False, allow_null=True, default=None)
    user_id = serializers.IntegerField(required=False, min_value=1, max_value=INT4_MAX)
