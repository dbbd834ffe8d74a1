"""Queries behind the health checks: sequences, wraparound, idle transactions, vacuum, settings."""

from dbtools.monitoring.queries.base import fetch_all

XID_LIMIT = 2**31  # transaction IDs wrap around at 2^31; PostgreSQL stops accepting writes shortly before


def sequences_near_overflow(min_ratio=0.5, limit=50):
    """Ascending sequences by how much of their range is used; the owning column's type caps the range
    (a bigint sequence feeding an integer column overflows at 2^31-1)."""
    return fetch_all(
        "SELECT * FROM (SELECT n.nspname AS schema, c.relname AS sequence, t.relname AS table, a.attname AS column,"
        " format_type(a.atttypid, NULL) AS column_type, v.last_value,"
        " least(s.seqmax, CASE a.atttypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647"
        "      ELSE 9223372036854775807 END) AS max_value"
        " FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " CROSS JOIN LATERAL (SELECT CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE')"
        "      THEN pg_sequence_last_value(c.oid) END AS last_value) v"
        " LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass"
        "      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
        " LEFT JOIN pg_class t ON t.oid = d.refobjid"
        " LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
        " WHERE s.seqincrement > 0 AND v.last_value IS NOT NULL) q"
        " WHERE last_value::numeric / max_value >= %s"
        " ORDER BY last_value::numeric / max_value DESC LIMIT %s",
        [min_ratio, limit],
    )


def transaction_id_age():
    """Age of the oldest unfrozen transaction ID per database, against the 2^31 wraparound limit."""
    return fetch_all(
        "SELECT datname AS database, age(datfrozenxid) AS xid_age, mxid_age(datminmxid) AS multixact_age,"
        " current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age,"
        " round(100.0 * age(datfrozenxid) / %s, 2)::float AS percent_towards_wraparound"
        " FROM pg_database WHERE datallowconn ORDER BY age(datfrozenxid) DESC",
        [XID_LIMIT],
    )


def idle_in_transaction(min_seconds):
    """Sessions of this database sitting inside an open transaction: they hold locks and stop vacuum from
    cleaning up."""
    return fetch_all(
        "SELECT pid, usename AS username, datname AS database, application_name, state, query,"
        " extract(epoch FROM now() - state_change)::float AS idle_seconds,"
        " extract(epoch FROM now() - xact_start)::float AS transaction_seconds"
        " FROM pg_stat_activity WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')"
        " AND datname = current_database() AND now() - state_change > make_interval(secs => %s) ORDER BY state_change",
        [float(min_seconds)],
    )


def tables_needing_vacuum(limit=50):
    """Dead tuples past the autovacuum trigger (threshold + scale_factor x rows, global settings; per-table
    storage parameters are not read here), using the stats functions on pg_class so it stays cheap."""
    return fetch_all(
        "SELECT * FROM (SELECT n.nspname AS schema, c.relname AS table, pg_stat_get_dead_tuples(c.oid) AS dead_tuples,"
        " pg_stat_get_live_tuples(c.oid) AS live_tuples,"
        " current_setting('autovacuum_vacuum_threshold')::bigint"
        "   + current_setting('autovacuum_vacuum_scale_factor')::float * greatest(c.reltuples, 0) AS trigger_at,"
        " greatest(pg_stat_get_last_vacuum_time(c.oid), pg_stat_get_last_autovacuum_time(c.oid)) AS last_vacuum"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname !~ '^pg_toast') t"
        " WHERE dead_tuples > trigger_at ORDER BY dead_tuples DESC LIMIT %s",
        [limit],
    )


WATCHED_SETTINGS = [
    "max_connections", "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem",
    "random_page_cost", "autovacuum", "fsync", "synchronous_commit", "full_page_writes",
    "idle_in_transaction_session_timeout", "log_min_duration_statement",
    "track_io_timing", "shared_preload_libraries", "checkpoint_timeout", "max_wal_size",
]


def watched_settings():
    return fetch_all(
        "SELECT name, setting, unit, boot_val AS default_value, source, short_desc AS description"
        " FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
        [WATCHED_SETTINGS],
    )
