from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html
from django.utils.translation import gettext as _

from blog.models import BlogUser, Post
from blog.selectors import InArray, substring_search
from blog.services import blog_delete, blog_posts_of_users, blog_record_save, blog_update
from core.pagination import EstimatedCountPaginator

for _model in (BlogUser, Post):
    _model._meta.pk.register_lookup(InArray)


class LargeTableChangeList(ChangeList):
    """Counts that say when they are estimates ("≈ 1,001,908"), and no "N results (Show all)" unfiltered.

    Row links: with a search or filter on, Django's admin reverses each row's change URL once per link column
    and resolves it again to append the filters (add_preserved_filters), a third of a 50-row page's time. Here
    each row's link, filters included, is built once; the template tag then only re-encodes its query string."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.row_link_query, self.preserved_filters, self.row_links = self.preserved_filters, "", {}

    def url_for_result(self, result):
        pk = getattr(result, self.pk_attname)
        if pk not in self.row_links:
            url = super().url_for_result(result)
            self.row_links[pk] = f"{url}?{self.row_link_query}" if self.row_link_query else url
        return self.row_links[pk]

    def get_results(self, request):
        super().get_results(request)
        if not (self.query or self.has_active_filters):
            # show_full_result_count is off (no second COUNT); unfiltered, the total is the count shown.
            self.full_result_count = self.result_count
        estimate = getattr(self.paginator, "is_estimate", False)
        self.result_count_label = f"{'≈ ' if estimate else ''}{self.result_count:,}"


class LargeTableAdmin(admin.ModelAdmin):
    """Changelist settings that keep a page fast on millions of rows; changes are audited (blog/services.py)."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    # Facet counts are a COUNT per filter value: too slow to offer on tables with millions of rows.
    show_facets = admin.ShowFacets.NEVER
    # The whole search term, as one case-insensitive substring of any of these (as the API's `search`); the
    # pg_trgm indexes of blog/search_schema.py serve it. A number also finds the row with that id.
    substring_search_fields = ()

    def get_changelist(self, request, **kwargs):
        return LargeTableChangeList

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # blog/selectors.py: planned by where the matches are; the count comes with the ids when it can.
        found = substring_search(queryset, self.substring_search_fields, term, page_size=self.list_per_page)
        request.pgdeck_search_count = found.count
        return found.queryset, False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page,
                              known_count=getattr(request, "pgdeck_search_count", None))

    def action_checkbox(self, obj):
        # Django's own renders a CheckboxInput through the form template renderer, a fifth of a 50-row page's time;
        # this is the same HTML (tests/blog/test_admin_search_and_audit.py compares the two).
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                           helpers.ACTION_CHECKBOX_NAME, str(obj.pk), label)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        blog_record_save(request=request, instance=obj, created=not change, fields=form.changed_data)

    def delete_model(self, request, obj):
        blog_delete(request=request, queryset=type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # One DELETE; for users PostgreSQL's ON DELETE CASCADE removes the posts.
        blog_delete(request=request, queryset=queryset)


@admin.register(BlogUser)
class BlogUserAdmin(LargeTableAdmin):
    list_display = ("id", "username", "email", "is_active", "created_at", "updated_at")
    list_display_links = ("id", "username")
    list_filter = ("is_active",)
    search_fields = ("username", "email")
    substring_search_fields = ("username", "email")
    search_help_text = "Part of a username or email (any case), or an id."
    readonly_fields = ("created_at", "updated_at")

    def get_deleted_objects(self, objs, request):
        # The FK is DO_NOTHING in Django (PostgreSQL cascades), so Django's own summary would say "Users: 1"
        # and nothing about the posts that go too.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        posts = blog_posts_of_users(objs)
        deleted = [*deleted, f"{posts:,} post{'' if posts == 1 else 's'} by "
                             f"{'this user' if len(objs) == 1 else 'these users'}, removed with them by the "
                             "database (ON DELETE CASCADE)"]
        return deleted, {**model_count, "posts": f"{posts:,}"}, perms_needed, protected


@admin.register(Post)
class PostAdmin(LargeTableAdmin):
    list_display = ("id", "title", "user", "is_published", "created_at", "updated_at")
    list_display_links = ("id", "title")
    list_filter = ("is_published",)
    list_select_related = ("user",)
    search_fields = ("title",)
    substring_search_fields = ("title",)
    search_help_text = "Part of a title (any case), or an id."
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
        count = blog_update(request=request, queryset=queryset, is_published=value)
        state = "published" if value else "unpublished"
        self.message_user(request, f"{count} post(s) {state}.", messages.SUCCESS)
