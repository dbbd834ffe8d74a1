"""/api/v1/users/ and /api/v1/posts/: the seed's blog tables over REST; every write is in the audit trail.

Deleting a user is one DELETE; PostgreSQL's ON DELETE CASCADE removes the posts (the FK is DO_NOTHING in Django).
"""

from django.db import IntegrityError, transaction
from django.db.models import Q
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets

from blog.api.serializers import BlogUserQuery, BlogUserSerializer, PostQuery, PostSerializer
from blog.models import BlogUser, Post
from blog.services import blog_delete, blog_record_save
from config.api.errors import ApiError
from core.api.pagination import IdCursorPagination
from core.api.permissions import require_model_perms


class BlogViewSet(viewsets.ModelViewSet):
    # Cursor-paginated CRUD with validated filters; unique-key races become 409, not 500.

    pagination_class = IdCursorPagination
    query_serializer_class = None
    search_fields = ()

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = self.query_serializer_class(query_params=self.request.query_params).validated_or_raise()
        search = filters.pop("search", None)
        if search:
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": search})
            queryset = queryset.filter(condition)
        return queryset.filter(**filters)

    def _save(self, serializer):
        created = serializer.instance is None
        fields = set(serializer.validated_data)
        try:
            with transaction.atomic():
                instance = serializer.save()
                blog_record_save(request=self.request, instance=instance, created=created, fields=fields)
        except IntegrityError as exc:
            raise ApiError(409, "conflict", "The change conflicts with existing data (a unique value is taken).",
                           {"database": str(exc).splitlines()[0][:200]})

    perform_create = _save
    perform_update = _save

    def perform_destroy(self, instance):
        blog_delete(request=self.request, queryset=type(instance).objects.filter(pk=instance.pk))


NO_AUTHOR = {404: OpenApiResponse(description="No such post, or `user_id` names no blog user (`not_found`).")}


@extend_schema_view(
    list=extend_schema(summary="List blog users (newest first)", parameters=[BlogUserQuery]),
    create=extend_schema(summary="Create a blog user"),
    retrieve=extend_schema(summary="Get a blog user"),
    update=extend_schema(summary="Replace a blog user"),
    partial_update=extend_schema(summary="Change some fields of a blog user"),
    destroy=extend_schema(summary="Delete a blog user and, by the database's ON DELETE CASCADE, their posts"),
)
class BlogUserViewSet(BlogViewSet):
    """The seed's `users` table. Reads need scope `read` (blog.view_bloguser), writes scope `write`."""

    queryset = BlogUser.objects.all()
    serializer_class = BlogUserSerializer
    permission_classes = [require_model_perms("blog", "bloguser")]
    query_serializer_class = BlogUserQuery
    search_fields = ("username", "email")


@extend_schema_view(
    list=extend_schema(summary="List posts (newest first)", parameters=[PostQuery]),
    create=extend_schema(summary="Create a post", responses={201: PostSerializer, **NO_AUTHOR}),
    retrieve=extend_schema(summary="Get a post"),
    update=extend_schema(summary="Replace a post", responses={200: PostSerializer, **NO_AUTHOR}),
    partial_update=extend_schema(summary="Change some fields of a post", responses={200: PostSerializer, **NO_AUTHOR}),
    destroy=extend_schema(summary="Delete a post"),
)
class PostViewSet(BlogViewSet):
    """The seed's `posts` table. Reads need scope `read` (blog.view_post), writes scope `write`."""

    queryset = Post.objects.all()
    serializer_class = PostSerializer
    permission_classes = [require_model_perms("blog", "post")]
    query_serializer_class = PostQuery
    search_fields = ("title",)
