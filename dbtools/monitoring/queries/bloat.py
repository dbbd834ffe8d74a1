"""Bloat estimates from statistics (no pgstattuple, no full scan): tables and btree indexes side by side.

Table: heap bytes − the pages reltuples rows of the average width (pg_stats) would fill (the tables page's formula).
Index (the ioguide / pgexperts estimate PgHero also uses, simplified): each btree entry takes a 4-byte line
pointer plus MAXALIGN(8-byte tuple header + Σ key avg_width × (1 − null_frac)); leaf pages are filled to the
index's fillfactor (90 by default); + 1 metapage. Everything above that is bloat. Expression keys have no
pg_stats row: such indexes are left out rather than guessed.
"""

from dbtools.monitoring.queries.base import fetch_all

LIMIT = 50

TABLES_SQL = """
SELECT n.nspname AS schema, c.relname AS name, c.reltuples::bigint AS estimated_rows,
       pg_relation_size(c.oid) AS bytes, b.bloat_bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
  SELECT sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)) AS row_width FROM pg_stats s
  WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND NOT s.inherited) w
CROSS JOIN LATERAL (
  SELECT greatest(0, c.relpages::bigint * current_setting('block_size')::int
    - ceil(c.reltuples * (28 + w.row_width) / (current_setting('block_size')::int - 24))
      * current_setting('block_size')::int)::bigint AS bloat_bytes) b
WHERE c.relkind IN ('r', 'm') AND c.reltuples > 0 AND w.row_width IS NOT NULL
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
  AND b.bloat_bytes >= %(min_bytes)s
ORDER BY b.bloat_bytes DESC, c.oid LIMIT %(limit)s
"""

INDEXES_SQL = """
WITH keys AS (
  SELECT x.indexrelid, x.indrelid, k.attnum, x.indnkeyatts
  FROM pg_index x CROSS JOIN LATERAL unnest(x.indkey[0:x.indnkeyatts - 1]) k(attnum)
), widths AS (
  SELECT k.indexrelid, k.indrelid, count(s.attname) AS known, max(k.indnkeyatts) AS wanted,
         sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)) AS data_width
  FROM keys k JOIN pg_class t ON t.oid = k.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = k.indrelid AND a.attnum = k.attnum
  LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname
    AND NOT s.inherited
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
  GROUP BY k.indexrelid, k.indrelid
), estimate AS (
  SELECT w.*, i.relpages, i.reltuples, current_setting('block_size')::int AS bs,
         coalesce((SELECT option_value::int FROM pg_options_to_table(i.reloptions)
                   WHERE option_name = 'fillfactor'), 90) AS fillfactor,
         4 + 8 * ceil((8 + w.data_width) / 8) AS entry_bytes
  FROM widths w JOIN pg_class i ON i.oid = w.indexrelid JOIN pg_am am ON am.oid = i.relam
  WHERE am.amname = 'btree' AND w.known = w.wanted AND i.reltuples >= 0
)
SELECT n.nspname AS schema, t.relname AS table_name, i.relname AS name, e.reltuples::bigint AS estimated_rows,
       e.relpages::bigint * e.bs AS bytes, b.expected_pages,
       greatest(0, (e.relpages - b.expected_pages) * e.bs)::bigint AS bloat_bytes
FROM estimate e JOIN pg_class i ON i.oid = e.indexrelid JOIN pg_class t ON t.oid = e.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL (SELECT 1 + ceil(e.reltuples * e.entry_bytes / ((e.bs - 24 - 16) * e.fillfactor / 100.0))
                    AS expected_pages) b
WHERE (e.relpages - b.expected_pages) * e.bs >= %(min_bytes)s
ORDER BY bloat_bytes DESC, e.indexrelid LIMIT %(limit)s
"""


def table_bloat(min_bytes=0, limit=LIMIT):
    return fetch_all(TABLES_SQL, {"min_bytes": min_bytes, "limit": limit})


def index_bloat(min_bytes=0, limit=LIMIT):
    return fetch_all(INDEXES_SQL, {"min_bytes": min_bytes, "limit": limit})
