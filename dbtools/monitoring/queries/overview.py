"""Server and database-wide figures: version, uptime, size, counters for per-second rates, checkpoints."""

from dbtools.monitoring.queries.base import fetch_one, server_version_num


def server_info():
    return fetch_one(
        "SELECT version() AS version, current_setting('server_version') AS server_version,"
        " current_setting('server_version_num')::int AS server_version_num,"
        " pg_postmaster_start_time() AS started_at,"
        " extract(epoch FROM now() - pg_postmaster_start_time())::bigint AS uptime_seconds,"
        " current_database() AS database,"
        " current_setting('max_connections')::int AS max_connections, pg_is_in_recovery() AS in_recovery"
    )


def database_size():
    """pg_database_size walks every file of the database: milliseconds per thousand tables (selectors cache it)."""
    return fetch_one("SELECT pg_database_size(current_database()) AS bytes")["bytes"]


def database_counters():
    """Cumulative counters of this database; the charts turn two readings into per-second rates."""
    return fetch_one(
        "SELECT extract(epoch FROM clock_timestamp())::float AS ts, xact_commit, xact_rollback,"
        " tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, blks_read, blks_hit,"
        " deadlocks, temp_bytes, numbackends, stats_reset"
        " FROM pg_stat_database WHERE datname = current_database()"
    )


def cache_hit_ratios():
    """Share of heap and index block reads served from shared buffers (user relations only, like PgHero).

    The stats functions over one pg_class scan: pg_statio_user_tables would aggregate indexes per table first."""
    return fetch_one(
        "SELECT sum(hit) FILTER (WHERE kind = 'table')::float"
        "       / nullif(sum(fetched) FILTER (WHERE kind = 'table'), 0) AS table_hit_ratio,"
        " sum(hit) FILTER (WHERE kind = 'index')::float"
        "       / nullif(sum(fetched) FILTER (WHERE kind = 'index'), 0) AS index_hit_ratio"
        " FROM (SELECT CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END AS kind,"
        "       pg_stat_get_blocks_hit(c.oid) AS hit, pg_stat_get_blocks_fetched(c.oid) AS fetched"
        "       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        "       WHERE c.relkind IN ('r', 'm', 'i') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        "       AND n.nspname !~ '^pg_toast') s"
    )


def checkpoints():
    """PostgreSQL 17 moved checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer."""
    if server_version_num() >= 170000:
        return fetch_one("SELECT num_timed AS timed, num_requested AS requested FROM pg_stat_checkpointer")
    return fetch_one("SELECT checkpoints_timed AS timed, checkpoints_req AS requested FROM pg_stat_bgwriter")
