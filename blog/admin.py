from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Lookup, Q

from blog.models import BlogUser, Post
from blog.services import blog_delete, blog_posts_of_users, blog_record_save, blog_update
from core.pagination import EstimatedCountPaginator

INT4_MAX = 2**31 - 1
# A search whose term does not fill a page among the NEWEST_PROBE newest rows fetches its matching ids first
# (up to SEARCH_IDS_MAX; more, and it filters as usual).
NEWEST_PROBE = 5_000
SEARCH_IDS_MAX = 20_000


class InArray(Lookup):
    """`pk__in_array=ids`: `pk = ANY(%s)` with one array parameter; `pk__in` would send 20,000 parameters."""

    lookup_name = "in_array"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [[int(item) for item in value]]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


for _model in (BlogUser, Post):
    _model._meta.pk.register_lookup(InArray)


class LargeTableChangeList(ChangeList):
    """Counts that say when they are estimates ("≈ 1,001,908"), and no "N results (Show all)" unfiltered."""

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
        condition = Q()
        for field in self.substring_search_fields:
            condition |= Q(**{f"{field}__icontains": term})
        if term.isdigit() and int(term) <= INT4_MAX:
            condition |= Q(pk=int(term))
        return self._selective_search(queryset, condition), False

    def _selective_search(self, queryset, condition):
        # Ordered by id with a LIMIT, the planner walks the primary key backwards and filters every row: instant
        # for a term found among the newest rows, but seconds for one whose rows sit together far from them
        # (seed titles are numbered). So look at the newest rows first; a term that cannot fill a page there is
        # found once through the trigram index (one bitmap scan) and the page and its count use the primary key.
        matches = queryset.filter(condition)
        newest = queryset.order_by("-pk").values("pk")[:NEWEST_PROBE]
        on_top = queryset.model.objects.filter(condition, pk__in=newest)[:self.list_per_page].count()
        if on_top >= self.list_per_page:
            return matches
        ids = list(matches.order_by().values_list("pk", flat=True)[:SEARCH_IDS_MAX + 1])
        return matches if len(ids) > SEARCH_IDS_MAX else queryset.filter(pk__in_array=ids)

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
