"""Monitoring screens in the admin: thin views over selectors, Django admin look (each_context, breadcrumbs)."""

from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from dbtools.monitoring import fleet, fleet_rows, selectors
from dbtools.monitoring.queries.base import MonitoringQueryError, MonitoringTargetError, monitoring_target
from dbtools.monitoring.selectors import monitor_targets_for
from dbtools.monitoring.visibility import visibility_for
from dbtools.targeting import DEFAULT, TARGET_ERROR_TYPES, authorize, target_error, target_name
from targets.selectors import user_can

SCREENS = [
    ("dbtools_monitoring", "Overview"),
    ("dbtools_monitoring_fleet", "Fleet"),
    ("dbtools_monitoring_activity", "Activity"),
    ("dbtools_monitoring_locks", "Locks"),
    ("dbtools_monitoring_tables", "Tables"),
    ("dbtools_monitoring_indexes", "Indexes"),
    ("dbtools_monitoring_checks", "Health checks"),
    ("dbtools_monitoring_query_stats", "Query stats"),
    ("dbtools_monitoring_query_history", "Query history"),
    ("dbtools_monitoring_index_advice", "Suggested indexes"),
    ("dbtools_monitoring_bloat", "Bloat"),
    ("dbtools_monitoring_tuning", "Settings tune"),
]
ACTIVITY_FILTERS = ("state", "username", "database", "application", "search")


# Screens fed by pgdeck's own snapshots of the app's database, not by live queries: default target only.
DEFAULT_ONLY = ("dbtools_monitoring_query_history", "dbtools_monitoring_query_history_detail")


def _build(request, build, url_name, target):
    """The screen's data on `target`, or (status, message) of why there is none."""
    if url_name in DEFAULT_ONLY and target != DEFAULT:
        return 200, {"query_error": f"This screen shows pgdeck's own statement snapshots of the default target; "
                                    f"target {target!r} has none."}
    try:
        with monitoring_target(target):
            return 200, build(request)
    except MonitoringTargetError as exc:
        return exc.status, {"query_error": str(exc), "target_error": exc.code}
    except MonitoringQueryError as exc:
        return 200, {"query_error": str(exc)}


def monitoring_view(url_name, title, template):
    """Decorator: permission check, the target (?target=, checked), the admin context, the sub-navigation, and a
    query or target error as a page note (a missing/forbidden/unreachable target with its 4xx status)."""

    def decorate(build):
        @wraps(build)
        def view(request, site):
            if not request.user.has_perm("dbtools.view_monitoring"):
                raise PermissionDenied
            target, status, data = target_name(request.GET.get("target")), 200, {}
            try:
                authorize(request.user, target, "monitor")
            except TARGET_ERROR_TYPES as exc:
                status, _code, message = target_error(exc)
                data = {"query_error": message}
            else:
                status, data = _build(request, build, url_name, target)
            context = {**site.each_context(request), "title": title, "current": url_name, "screens": SCREENS,
                       "can_cancel": _can(request, "cancel", target), "can_terminate": _can(request, "terminate",
                                                                                            target),
                       "next_url": request.get_full_path(), **target_context(request, target), **data}
            return TemplateResponse(request, f"dbtools/monitoring/{template}", context, status=status)

        return view

    return decorate


def target_context(request, target):
    """The page's target, its query string for links, and the targets this user may monitor (the picker)."""
    return {"target": target, "target_query": "" if target == DEFAULT else f"?target={target}",
            "monitor_targets": monitor_targets_for(request.user)}


def _can(request, action, target=DEFAULT):
    setting = {"cancel": "MONITORING_ALLOW_CANCEL", "terminate": "MONITORING_ALLOW_TERMINATE"}[action]
    return bool(getattr(settings, setting) and request.user.has_perm(f"dbtools.{action}_backend")
                and (target == DEFAULT or user_can(request.user, target, "signal")))


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _filter_text(request, name):
    """A filter box's text; NUL characters can never match PostgreSQL text, so they are dropped."""
    return request.GET.get(name, "").replace("\x00", "").strip()[:200]


@monitoring_view("dbtools_monitoring", "Monitoring", "overview.html")
def overview_view(request):
    data = selectors.overview_get(visibility_for(request))
    return {**data, "chart_interval": settings.MONITORING_CHART_INTERVAL_SECONDS,
            "connections_percent": round(100 * data["connections"]["total"] / data["server"]["max_connections"], 1)}


@monitoring_view("dbtools_monitoring_activity", "Activity", "activity.html")
def activity_view(request):
    filters = {name: _filter_text(request, name) for name in ACTIVITY_FILTERS}
    min_seconds = _int(request.GET.get("min_seconds"), 0)
    show_all = request.GET.get("all") == "1"
    data = selectors.activity_get({**filters, "min_seconds": max(min_seconds, 0), "client_only": not show_all},
                                  visibility_for(request))
    return {**data, "filters": filters, "min_seconds": min_seconds or "", "show_all": show_all,
            "choices": selectors.activity_filter_choices()}


@monitoring_view("dbtools_monitoring_locks", "Locks", "locks.html")
def locks_view(request):
    return selectors.locks_get(visibility_for(request))


@monitoring_view("dbtools_monitoring_tables", "Tables", "tables.html")
def tables_view(request):
    sort = request.GET.get("sort", "size")
    sort = sort if sort in selectors.TABLE_SORTS else "size"
    descending = request.GET.get("dir", "desc" if sort != "name" else "asc") != "asc"
    search = _filter_text(request, "q")
    data = selectors.tables_get(sort=sort, descending=descending, page=_int(request.GET.get("page"), 1),
                                search=search)
    columns = [(key, label, sort == key) for key, label in TABLE_COLUMNS]
    return {**data, "sort": sort, "dir": "desc" if descending else "asc", "q": search, "columns": columns,
            "page_numbers": _page_numbers(data["page"], data["pages"]), "ellipsis": Paginator.ELLIPSIS}


TABLE_COLUMNS = [("name", "Table"), ("size", "Total size"), ("rows", "Estimated rows"), ("seq_scan", "Seq scans"),
                 ("dead", "Dead tuples"), ("last_vacuum", "Last vacuum"), ("last_analyze", "Last analyze")]


def _page_numbers(page, pages):
    """Django's admin pagination: the first, last and a window around the current page, Paginator.ELLIPSIS between."""
    return list(Paginator(range(pages), 1).get_elided_page_range(page, on_each_side=3, on_ends=1))


@monitoring_view("dbtools_monitoring_indexes", "Indexes", "indexes.html")
def indexes_view(request):
    return selectors.indexes_get()


@monitoring_view("dbtools_monitoring_checks", "Health checks", "checks.html")
def checks_view(request):
    results = selectors.checks_run(visibility_for(request))
    return {"checks": results, "checks_summary": selectors.checks_summary(results)}


@monitoring_view("dbtools_monitoring_query_stats", "Query stats", "query_stats.html")
def query_stats_view(request):
    sort = request.GET.get("sort", "total")
    sort = sort if sort in selectors.QUERY_SORTS else "total"
    return {**selectors.query_stats_get(sort, visibility_for(request)), "sort": sort, "sorts": selectors.QUERY_SORTS}


def chart_data_view(request, site):
    """JSON for the live charts: current cumulative counters (the browser computes per-second deltas)."""
    if not request.user.has_perm("dbtools.view_monitoring"):
        return JsonResponse({"error": {"code": "permission_denied", "message": "Needs dbtools.view_monitoring."}},
                            status=403)
    target = target_name(request.GET.get("target"))
    try:
        authorize(request.user, target, "monitor")
        with monitoring_target(target):
            return JsonResponse(selectors.chart_counters())
    except TARGET_ERROR_TYPES as exc:
        status, code, message = target_error(exc)
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    except MonitoringQueryError as exc:
        return JsonResponse({"error": {"code": exc.code, "message": str(exc)}}, status=exc.status)


@monitoring_view("dbtools_monitoring_fleet", "Fleet", "fleet.html")
def fleet_view(request):
    rows = [fleet_rows.page_row(row) for row in selectors.fleet_overview(request.user)]
    return {"rows": rows, "fleet_summary": fleet.summary(rows), "deadline": settings.FLEET_DEADLINE_SECONDS,
            "alerts_seconds": settings.FLEET_ALERTS_SECONDS, "overview_url": reverse("admin:dbtools_monitoring")}
