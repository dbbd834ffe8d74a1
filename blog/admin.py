from django.contrib import admin, messages

from blog.models import BlogUser, Post
from core.pagination import EstimatedCountPaginator


class LargeTableAdmin(admin.ModelAdmin):
    """Changelist settings that keep a page fast on millions of rows."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    # Facet counts are a COUNT per filter value: too slow to offer on tables with millions of rows.
    show_facets = admin.ShowFacets.NEVER


@admin.register(BlogUser)
class BlogUserAdmin(LargeTableAdmin):
    list_display = ("id", "username", "email", "is_active", "created_at", "updated_at")
    list_display_links = ("id", "username")
    list_filter = ("is_active",)
    search_fields = ("=id", "username__startswith", "email__startswith")
    readonly_fields = ("created_at", "updated_at")

    def delete_queryset(self, request, queryset):
        # One DELETE; PostgreSQL's ON DELETE CASCADE removes the posts.
        queryset.delete()


@admin.register(Post)
class PostAdmin(LargeTableAdmin):
    list_display = ("id", "title", "user", "is_published", "created_at", "updated_at")
    list_display_links = ("id", "title")
    list_filter = ("is_published",)
    list_select_related = ("user",)
    search_fields = ("=id", "title__startswith")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")
    actions = ("publish", "unpublish")

    @admin.action(description="Publish selected posts", permissions=["change"])
    def publish(self, request, queryset):
        self._set_published(request, queryset, True)

    @admin.action(description="Unpublish selected posts", permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, False)

    def _set_published(self, request, queryset, value):
        from django.db.models.functions import Now

        count = queryset.update(is_published=value, updated_at=Now())
        state = "published" if value else "unpublished"
        self.message_user(request, f"{count} post(s) {state}.", messages.SUCCESS)
