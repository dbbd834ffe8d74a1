"""Reads for the monitoring screens, the API and /metrics: they shape query rows, never write."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from dbtools.models import StatsSnapshot
from dbtools.monitoring import checks, fleet
from dbtools.monitoring.queries import activity, indexes, locks, overview, query_stats, tables
from dbtools.monitoring.queries.base import MonitoringQueryError, current_target, monitoring_connection
from dbtools.monitoring.services import app_backend_pids
from dbtools.monitoring.visibility import NOTHING
from targets import seam
from targets import selectors as target_selectors
from targets.errors import TargetError
from targets.selectors import target_list, targets_for_user

TABLE_SORTS = list(tables.SORT_KEYS)
QUERY_SORTS = list(query_stats.SORT_COLUMNS)


def monitor_targets_for(user):
    """Names of the targets `user` may monitor, "default" first (the monitoring pages' target picker)."""
    names = target_selectors.target_names_for_user(user, "monitor")
    return ["default"] + sorted(name for name in names if name != "default")


def pool_stats():
    """This app's psycopg pool (size, available, waiting), or None when pooling is off (e.g. PgBouncer) or the
    page shows another target."""
    pool = getattr(connection, "pool", None) if current_target() == "default" else None
    if pool is None:
        return None
    stats = pool.get_stats()
    return {"min": stats.get("pool_min"), "max": stats.get("pool_max"), "size": stats.get("pool_size", 0),
            "available": stats.get("pool_available", 0), "waiting": stats.get("requests_waiting", 0)}


def _cached(name, compute):
    """Figures that cost O(tables) and change slowly are reused for MONITORING_SIZE_CACHE_SECONDS."""
    key = f"pgdeck:monitoring:{name}:{current_target()}:{monitoring_connection().settings_dict['NAME']}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.MONITORING_SIZE_CACHE_SECONDS)
    return value


def database_size_cached():
    """pg_database_size stats every file: tens of milliseconds with thousands of tables."""
    return _cached("database_size", overview.database_size)


def cache_hit_ratios_cached():
    """One stats lookup per user table and index: cumulative ratios that move slowly."""
    return _cached("cache_hit", overview.cache_hit_ratios)


def server_get():
    return {**overview.server_info(), "database_bytes": database_size_cached()}


def connections_get():
    by_state = activity.state_counts()
    return {"by_state": by_state, "total": sum(row["connections"] for row in by_state)}


def checks_run(visibility=NOTHING):
    """Every health check; one failing query turns its check into an 'error' row instead of a 500.
    Rows naming a session (idle in transaction) are shaped like the activity screen's for this viewer."""
    results = []
    for check in checks.CHECKS:
        try:
            result = check()
        except MonitoringQueryError as exc:
            result = checks.result(check.__name__.removeprefix("check_"), check.__name__, "error", str(exc))
        if any("query" in row for row in result["rows"]):
            result["rows"] = visibility.shape(result["rows"])
        results.append(result)
    return results


def checks_summary(results):
    summary = {"green": 0, "amber": 0, "red": 0, "error": 0}
    for result in results:
        summary[result["status"]] += 1
    return summary


def growth_by_day(days=None):
    """The last snapshot of each day over the retention window, with the change from the day before."""
    days = days or settings.MONITORING_RETENTION_DAYS
    since = timezone.now() - timedelta(days=days)
    last_per_day = {}
    for snapshot in StatsSnapshot.objects.filter(taken_at__gte=since).order_by("taken_at"):
        last_per_day[snapshot.taken_at.date()] = snapshot
    rows, previous = [], None
    for day, snapshot in sorted(last_per_day.items()):
        rows.append({"day": day.isoformat(), "database_size": snapshot.database_size,
                     "growth": None if previous is None else snapshot.database_size - previous.database_size,
                     "xact_commit": snapshot.xact_commit, "cache_hit_ratio": snapshot.cache_hit_ratio,
                     "connections": snapshot.connections.get("total")})
        previous = snapshot
    return rows


def overview_get(visibility=NOTHING):
    results = checks_run(visibility)
    return {
        "server": server_get(), "counters": overview.database_counters(),
        "cache": cache_hit_ratios_cached(), "connections": connections_get(), "pool": pool_stats(),
        "checkpoints": overview.checkpoints(), "checks": results, "checks_summary": checks_summary(results),
        "growth": growth_by_day() if current_target() == "default" else [],  # snapshots: the app's own database
    }


def chart_counters():
    """Cumulative counters for the live charts; the browser turns two readings into per-second rates."""
    return {"counters": overview.database_counters(), "connections": connections_get(), "pool": pool_stats()}


def _search_redacted(rows, search):
    """Search what the viewer can read: matching raw text would let them probe for values they cannot see."""
    needle = search.lower()
    return [row for row in rows if needle in row["query"].lower()]


def activity_get(filters, visibility=NOTHING):
    threshold = settings.MONITORING_LONG_QUERY_SECONDS
    search = "" if visibility.query_text else filters.pop("search", "")
    rows = visibility.shape(activity.backends(**filters, pids=visibility.own_pids))
    long_running = visibility.shape(activity.long_running(threshold, pids=visibility.own_pids))
    if search:
        rows = _search_redacted(rows, search)
    own = app_backend_pids()
    for row in rows + long_running:
        row["long_running"] = row["state"] == "active" and (row["duration_seconds"] or 0) > threshold
        row["is_self"] = row["pid"] in own
    return {"backends": rows, "long_running": long_running, "threshold_seconds": threshold}


def activity_filter_choices():
    return activity.filter_choices()


def blocking_tree(nodes):
    """Flatten 'who blocks whom' into rows with a depth: roots are blockers that wait on nobody here."""
    by_pid = {node["pid"]: node for node in nodes}
    children = {pid: [] for pid in by_pid}
    for node in nodes:
        for blocker in node["blocked_by"]:
            if blocker in children:
                children[blocker].append(node)
    roots = [node for node in nodes if not any(b in by_pid for b in node["blocked_by"])]
    rows = []

    def walk(node, depth, path):
        rows.append({**node, "depth": depth, "indent": depth * 24})
        for child in children[node["pid"]]:
            if child["pid"] not in path:  # a deadlock cycle lasts until deadlock_timeout; do not loop on it
                walk(child, depth + 1, path | {child["pid"]})

    for root in roots or nodes[:1]:
        walk(root, 0, {root["pid"]})
    return rows


def locks_get(visibility=NOTHING):
    nodes, own = visibility.shape(locks.blocking_backends()), app_backend_pids()
    for node in nodes:
        node["is_self"] = node["pid"] in own
    return {"tree": blocking_tree(nodes), "locks": visibility.shape(locks.locks())}


def tables_get(*, sort, descending, page, search=""):
    per_page = settings.MONITORING_TABLES_PER_PAGE
    count = tables.table_count(search)
    pages = max(1, -(-count // per_page))
    page = min(max(1, page), pages)
    rows = tables.table_page(sort=sort, descending=descending, limit=per_page, offset=(page - 1) * per_page,
                             search=search)
    return {"rows": rows, "count": count, "page": page, "pages": pages, "per_page": per_page}


def indexes_get():
    return {"usage": indexes.index_usage(), "unused": indexes.unused_indexes(),
            "duplicates": indexes.duplicate_indexes(), "invalid": indexes.invalid_indexes()}


def query_stats_get(sort="total", visibility=NOTHING):
    """Top statements, or the reason they cannot be shown (extension missing/not preloaded) and no rows."""
    status = query_stats.extension_status()
    result = {"status": status, "rows": [], "problem": None}
    if not status["installed_version"]:
        result["problem"] = "not_installed"
    elif not status["preloaded"]:
        result["problem"] = "not_preloaded"
    else:
        rows = query_stats.top_queries(extension_version=status["installed_version"], sort=sort)
        # pg_stat_statements already replaces constants, but keeps some utility statements' text verbatim.
        result["rows"] = [{**row, "query": visibility.query(row["query"])} for row in rows]
    return result


def _last_backups():
    """{target name: finished_at of its last successful backup}; backups rows record their target when the
    backups table has that column, else they are all the default target's."""
    from django.db.models import Max

    from dbtools.models import Backup

    done = Backup.objects.filter(status="success", finished_at__isnull=False)
    if any(f.name == "target" for f in Backup._meta.get_fields()):
        return dict(done.values("target").annotate(last=Max("finished_at")).values_list("target", "last"))
    return {"default": done.aggregate(last=Max("finished_at"))["last"]}


def fleet_overview(user, allowed=None):
    """One row per target `user` may monitor ("default" first; user None: every target, for an allowed /metrics
    address) and, with `allowed` (a callable of the name: an API key limited to some targets), that it allows:
    status up/slow/down, figures and alerts from the concurrent probes (monitoring/fleet.py, never longer than
    FLEET_DEADLINE_SECONDS), last backup age. A target that is the same database as an earlier row is marked
    `duplicate_of` it (fleet.mark_duplicates) and counted once."""
    targets = target_list() if user is None else targets_for_user(user, "monitor")
    targets = [t for t in targets if allowed is None or allowed(t.name)]
    kwargs, unusable = {}, {}
    for target in targets:
        try:
            kwargs[target.name] = seam.connect_kwargs(target, "monitoring")
        except TargetError as exc:
            unusable[target.name] = fleet.unusable(target.name, exc.message)
    probes = {**fleet.probe_targets(kwargs), **unusable}
    backups, now = _last_backups(), timezone.now()
    rows = [fleet.row(t.name, t.environment, probes[t.name], backups.get(t.name), now) for t in targets]
    return fleet.mark_duplicates(rows, probes)
