"""Per-table sizes and statistics, paginated and sorted in SQL so thousands of tables stay fast.

Sorting happens on catalog columns only (pg_class.relpages/reltuples, cheap per-table stats functions); the
exact sizes (which stat() every fork file), the statistics and the bloat estimate are computed for the rows of
one page only. The pg_stat_get_* functions are used directly because the pg_stat_all_tables view aggregates
over every table before any join condition can narrow it.
"""

from psycopg import sql

from dbtools.monitoring.queries.base import fetch_all, fetch_one

USER_TABLES = (
    "c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    " AND n.nspname !~ '^pg_toast' AND (%(search)s = '' OR c.relname ILIKE %(pattern)s"
    " OR n.nspname || '.' || c.relname ILIKE %(pattern)s)"
)

# Sort keys offered to users → SQL expressions over pg_class c / pg_namespace n. Only these are ever used.
SORT_KEYS = {
    "name": "n.nspname || '.' || c.relname",
    "size": "c.relpages::bigint + coalesce(t.relpages, 0) + coalesce(ix.pages, 0)",
    "rows": "c.reltuples",
    "seq_scan": "pg_stat_get_numscans(c.oid)",
    "dead": "pg_stat_get_dead_tuples(c.oid)",
    "last_vacuum": "greatest(pg_stat_get_last_vacuum_time(c.oid), pg_stat_get_last_autovacuum_time(c.oid))",
    "last_analyze": "greatest(pg_stat_get_last_analyze_time(c.oid), pg_stat_get_last_autoanalyze_time(c.oid))",
}

PAGE_QUERY = """
WITH page AS (
  SELECT c.oid, row_number() OVER (ORDER BY {key} {direction} NULLS LAST, c.oid) AS position
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
  LEFT JOIN (SELECT x.indrelid, sum(i.relpages) AS pages FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             GROUP BY x.indrelid) ix ON ix.indrelid = c.oid
  WHERE {where} ORDER BY position LIMIT %(limit)s OFFSET %(offset)s
)
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
  CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated_rows,
  pg_total_relation_size(c.oid) AS total_bytes, pg_relation_size(c.oid) AS table_bytes,
  pg_indexes_size(c.oid) AS index_bytes,
  coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast_bytes,
  pg_stat_get_numscans(c.oid) AS seq_scan,
  (SELECT sum(pg_stat_get_numscans(x.indexrelid))::bigint FROM pg_index x WHERE x.indrelid = c.oid) AS idx_scan,
  pg_stat_get_live_tuples(c.oid) AS live_tuples, pg_stat_get_dead_tuples(c.oid) AS dead_tuples,
  pg_stat_get_last_vacuum_time(c.oid) AS last_vacuum, pg_stat_get_last_autovacuum_time(c.oid) AS last_autovacuum,
  pg_stat_get_last_analyze_time(c.oid) AS last_analyze,
  pg_stat_get_last_autoanalyze_time(c.oid) AS last_autoanalyze,
  CASE WHEN w.row_width IS NOT NULL AND c.reltuples > 0 THEN greatest(0, pg_relation_size(c.oid)
    - ceil(c.reltuples * (28 + w.row_width) / (current_setting('block_size')::int - 24))
      * current_setting('block_size')::int)::bigint END AS bloat_bytes
FROM page p JOIN pg_class c ON c.oid = p.oid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
  SELECT sum((1 - coalesce(ps.null_frac, 0)) * coalesce(ps.avg_width, 0)) AS row_width FROM pg_stats ps
  WHERE ps.schemaname = n.nspname AND ps.tablename = c.relname AND NOT ps.inherited
) w ON true
ORDER BY p.position
"""


def _search_params(search):
    return {"search": search or "", "pattern": f"%{search or ''}%"}


def table_count(search=""):
    """How many user tables match (a catalog count: cheap even with thousands of tables)."""
    return fetch_one(
        "SELECT count(*) AS tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"  # noqa: S608
        f" WHERE {USER_TABLES}",
        _search_params(search),
    )["tables"]


def table_page(*, sort="size", descending=True, limit=50, offset=0, search=""):
    """One page of tables; `sort` must be a key of SORT_KEYS (the caller validates user input)."""
    query = sql.SQL(PAGE_QUERY).format(
        where=sql.SQL(USER_TABLES), key=sql.SQL(SORT_KEYS[sort]), direction=sql.SQL("DESC" if descending else "ASC"),
    )
    return fetch_all(query, {**_search_params(search), "limit": limit, "offset": offset})


def largest_tables(limit=20):
    """For snapshots: the largest tables by the planner's page count, with their exact total size."""
    return table_page(sort="size", limit=limit)
