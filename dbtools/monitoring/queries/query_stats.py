"""pg_stat_statements: is it there, and the top statements by total or mean time."""

from dbtools.monitoring.queries.base import fetch_all, fetch_one

# Sort keys → column names of pg_stat_statements 1.8+ (PostgreSQL 13+); 1.7 and older call them total_time.
SORT_COLUMNS = {"total": "total_exec_time", "mean": "mean_exec_time", "calls": "calls", "rows": "rows"}
LEGACY_COLUMNS = {"total_exec_time": "total_time", "mean_exec_time": "mean_time"}


def extension_status():
    """installed_version: in this database; preloaded: in shared_preload_libraries; available: on disk."""
    return fetch_one(
        "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed_version,"
        " 'pg_stat_statements' = ANY(string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''),"
        " ',')) AS preloaded,"
        " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements') AS available,"
        " current_setting('shared_preload_libraries') AS shared_preload_libraries"
    )


def _column(name, extension_version):
    major, minor = (int(part) for part in extension_version.split(".")[:2])
    return LEGACY_COLUMNS.get(name, name) if (major, minor) < (1, 8) else name


def top_queries(*, extension_version, sort="total", limit=50):
    """Top statements of this database; the extension's version decides the column names."""
    total, mean = _column("total_exec_time", extension_version), _column("mean_exec_time", extension_version)
    order = _column(SORT_COLUMNS[sort], extension_version)
    return fetch_all(
        f"SELECT s.queryid::text AS queryid, r.rolname AS username, s.calls, s.{total}::float AS total_ms,"  # noqa: S608
        f" s.{mean}::float AS mean_ms, s.rows, s.shared_blks_hit, s.shared_blks_read,"
        f" round((100 * s.{total} / nullif(sum(s.{total}) OVER (), 0))::numeric, 2)::float AS percent_of_total,"
        " s.query FROM pg_stat_statements s LEFT JOIN pg_roles r ON r.oid = s.userid"
        " WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        f" ORDER BY s.{order} DESC NULLS LAST LIMIT %s",
        [limit],
    )
