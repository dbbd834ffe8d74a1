"""The suggested-indexes screen: the top statements of pg_stat_statements through the advisor."""

from dbtools.monitoring.admin_views import monitoring_view
from dbtools.monitoring.index_advice.advise import MIN_ROWS, suggest
from dbtools.monitoring.queries.base import fetch_all, fetch_one
from dbtools.monitoring.visibility import visibility_for

STATEMENTS = 100


def top_statements(limit=STATEMENTS):
    """This database's statements with the most total time, one row per queryid (summed over users)."""
    version = fetch_one("SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'").get("extversion")
    if not version:
        return None
    total = "total_exec_time" if tuple(int(p) for p in version.split(".")[:2]) >= (1, 8) else "total_time"
    return fetch_all(
        f"SELECT queryid, min(query) AS query, sum(calls)::bigint AS calls, sum({total})::float8 AS total_ms"  # noqa: S608
        " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND queryid IS NOT NULL GROUP BY queryid ORDER BY total_ms DESC LIMIT %s", [limit])


@monitoring_view("dbtools_monitoring_index_advice", "Suggested indexes", "index_advice.html")
def index_advice_view(request):
    statements = top_statements()
    if statements is None:
        return {"suggestions": [], "not_installed": True}
    suggestions, visibility = suggest(statements), visibility_for(request)
    for suggestion in suggestions:
        suggestion["shown"] = [{**s, "text": visibility.query(s["query"])} for s in suggestion["statements"]]
    return {"suggestions": suggestions, "statements_read": len(statements), "min_rows": MIN_ROWS}
