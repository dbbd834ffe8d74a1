"""ModelAdmins of query_history (read-only, own rows unless view_all_query_history) and saved_queries."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.pagination import EstimatedCountPaginator
from dbtools.models import QueryHistory, SavedQuery
from dbtools.query import selectors, services


def _editor_link(query_string, label="Open in editor"):
    return format_html('<a href="{}?{}">{}</a>', reverse("admin:dbtools_query"), query_string, label)


@admin.register(QueryHistory)
class QueryHistoryAdmin(admin.ModelAdmin):
    list_display = ("id", "short_query", "open_in_editor", "user", "outcome", "rows", "ms", "when")
    list_display_links = ("id", "short_query")
    search_fields = ("query",)
    date_hierarchy = "timestamp"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_select_related = ("user",)
    readonly_fields = ("query", "user", "timestamp", "status", "mode", "row_count", "execution_time", "error",
                       "database_alias", "cancelled", "backend_pid", "open_in_editor", "compare_plan")
    fields = readonly_fields

    class Media:
        css = {"all": ["dbtools/query/admin.css"]}

    def get_list_filter(self, request):
        base = ["status", "mode", "timestamp"]
        return ["user", *base] if request.user.has_perm("dbtools.view_all_query_history") else base

    def get_queryset(self, request):
        return selectors.history_for(request.user)

    def get_list_display(self, request):
        if request.user.has_perm("dbtools.view_all_query_history"):
            return self.list_display
        return tuple(name for name in self.list_display if name != "user")

    @admin.display(description="status · mode", ordering="status")
    def outcome(self, obj):
        return f"{obj.status} · {obj.mode}"

    @admin.display(description="rows", ordering="row_count")
    def rows(self, obj):
        return obj.row_count

    @admin.display(description="ms", ordering="execution_time")
    def ms(self, obj):
        return "" if obj.execution_time is None else f"{obj.execution_time:.1f}"

    @admin.display(description="when (UTC)", ordering="timestamp")
    def when(self, obj):
        return f"{obj.timestamp:%Y-%m-%d %H:%M}"

    @admin.display(description="query")
    def short_query(self, obj):
        text = " ".join(obj.query.split())
        return text[:70] + ("…" if len(text) > 70 else "")

    @admin.display(description="editor")  # a label: the detail page showed a bare ":"
    def open_in_editor(self, obj):
        return _editor_link(f"history={obj.pk}")

    @admin.display(description="plan")
    def compare_plan(self, obj):
        if not obj.plan:
            return "–"
        return format_html('<a href="{}?a={}">compare with another plan</a>', reverse("admin:dbtools_plan_compare"),
                           obj.pk)

    def has_module_permission(self, request):
        return request.user.has_perm("dbtools.run_query")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("dbtools.run_query")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(SavedQuery)
class SavedQueryAdmin(admin.ModelAdmin):
    list_display = ("name", "open_in_editor", "owner", "shared", "run_count", "last_run_at")
    list_filter = ("shared",)
    search_fields = ("name", "description", "sql")
    fields = ("name", "description", "sql", "shared", "chart", "chart_preview", "owner", "run_count", "last_run_at",
              "open_in_editor")
    readonly_fields = ("owner", "run_count", "last_run_at", "open_in_editor", "chart_preview")

    class Media:
        css = {"all": ["dbtools/vendor/grid.bundle.css", "dbtools/query/widgets.css"]}
        js = ["dbtools/vendor/chart.bundle.js", "dbtools/query/widgets.js"]

    @admin.display(description="chart of the result")
    def chart_preview(self, obj):
        if not (obj and obj.pk):
            return "Save the query first; then its result can be charted here."
        return format_html(
            '<div class="saved-chart-box"><button type="button" id="saved-chart-run">Run and show chart</button> '
            '<span id="saved-chart-status" class="meta" role="status"></span>'
            '<div id="saved-chart" data-run-url="{}" data-save-url="{}" data-autorun="{}"></div></div>',
            reverse("admin:dbtools_saved_chart_data", args=[obj.pk]),
            reverse("admin:dbtools_saved_chart", args=[obj.pk]),
            "1" if obj.chart else "0")

    def get_queryset(self, request):
        return selectors.saved_queries_for(request.user)

    def get_actions(self, request):
        # Bulk delete would reach other users' shared queries; only admins keep it.
        actions = super().get_actions(request)
        if not request.user.has_perm("dbtools.view_all_query_history"):
            actions.pop("delete_selected", None)
        return actions

    @admin.display(description="editor")  # a label: the detail page showed a bare ":"
    def open_in_editor(self, obj):
        return _editor_link(f"saved={obj.pk}", "Open / run") if obj and obj.pk else ""

    def has_module_permission(self, request):
        return request.user.has_perm("dbtools.run_query")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("dbtools.run_query")

    def has_add_permission(self, request):
        return request.user.has_perm("dbtools.manage_saved_queries")

    def has_change_permission(self, request, obj=None):
        allowed = request.user.has_perm("dbtools.manage_saved_queries")
        return allowed and (obj is None or selectors.saved_query_editable(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:  # the form has set the fields; the service checks and saves
            services.saved_query_update(obj, actor=request.user)
            return
        obj.owner = request.user
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        services.saved_query_delete(obj, actor=request.user)
