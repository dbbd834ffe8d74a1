"""Index usage, unused, duplicate/overlapping and invalid indexes, with sizes."""

from dbtools.monitoring.queries.base import fetch_all

USER_INDEXES = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'"

INDEX_COLUMNS = (
    "n.nspname AS schema, t.relname AS table, i.relname AS index, pg_relation_size(i.oid) AS bytes,"
    " pg_stat_get_numscans(i.oid) AS scans, x.indisunique AS is_unique, x.indisprimary AS is_primary,"
    " x.indisvalid AS is_valid, pg_get_indexdef(i.oid) AS definition"
)
INDEX_FROM = (
    " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
    " JOIN pg_namespace n ON n.oid = t.relnamespace"
)


def index_usage(limit=50):
    """Largest indexes (by the planner's page count, so thousands of indexes sort cheaply) with their scans;
    sizes and definitions are computed for the chosen rows only."""
    return fetch_all(
        "WITH top AS (SELECT x.indexrelid, row_number() OVER (ORDER BY i.relpages DESC, i.oid) AS position"  # noqa: S608
        f" {INDEX_FROM} WHERE {USER_INDEXES} ORDER BY position LIMIT %s)"
        f" SELECT {INDEX_COLUMNS} FROM top JOIN pg_index x ON x.indexrelid = top.indexrelid"
        " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace ORDER BY top.position",
        [limit],
    )


def unused_indexes(limit=200):
    """Never scanned since the statistics reset, and not enforcing a constraint (unique/primary/exclusion).

    The catalog filters run first (OFFSET 0 keeps the planner from merging the subquery), so the statistics
    lookup only happens for the few indexes that could be dropped, not for every primary key."""
    return fetch_all(
        f"SELECT * FROM (SELECT {INDEX_COLUMNS}, i.relpages, i.oid {INDEX_FROM} WHERE {USER_INDEXES}"  # noqa: S608
        " AND NOT x.indisunique AND NOT x.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid) OFFSET 0) candidates"
        " WHERE scans = 0 ORDER BY relpages DESC, oid LIMIT %s",
        [limit],
    )


def duplicate_indexes(limit=200):
    """An index whose columns are a leading prefix of another index on the same table (same method,
    same operator classes, no expressions or predicates): the longer one can serve its queries.
    A unique index is only reported when the other one is unique on exactly the same columns."""
    return fetch_all(
        "SELECT n.nspname AS schema, t.relname AS table, i.relname AS index, pg_relation_size(i.oid) AS bytes,"  # noqa: S608
        " pg_get_indexdef(i.oid) AS definition, ci.relname AS covered_by,"
        " pg_get_indexdef(ci.oid) AS covered_by_definition"
        " FROM pg_index x JOIN pg_index c ON c.indrelid = x.indrelid AND c.indexrelid <> x.indexrelid"
        " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class ci ON ci.oid = c.indexrelid"
        " JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        f" WHERE {USER_INDEXES} AND i.relam = ci.relam"
        " AND x.indexprs IS NULL AND c.indexprs IS NULL AND x.indpred IS NULL AND c.indpred IS NULL"
        " AND (c.indkey::text || ' ') LIKE (x.indkey::text || ' %%')"
        " AND (c.indclass::text || ' ') LIKE (x.indclass::text || ' %%')"
        " AND (NOT x.indisunique OR (c.indisunique AND c.indkey::text = x.indkey::text))"
        " AND NOT (x.indkey::text = c.indkey::text AND x.indexrelid < c.indexrelid AND x.indisunique = c.indisunique)"
        " ORDER BY bytes DESC, i.oid LIMIT %s",
        [limit],
    )


def invalid_indexes():
    """Left behind by a failed CREATE INDEX CONCURRENTLY: maintained on writes, never used by reads."""
    return fetch_all(
        f"SELECT {INDEX_COLUMNS} {INDEX_FROM} WHERE {USER_INDEXES} AND NOT x.indisvalid"  # noqa: S608
        " ORDER BY n.nspname, i.relname"
    )
