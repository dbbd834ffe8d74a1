"""What the fleet overview reads from each target: one function per query, each on the probe's own psycopg
connection (autocommit, statement_timeout set when it connected; dbtools/monitoring/fleet.py), rows as dicts.

Cheap on purpose: catalog views and settings only; nothing walks a table. Activity counts are server-wide (every
database of the cluster: "connections vs max_connections" is a server limit)."""

from psycopg.rows import dict_row


def _one(conn, sql, params=None):
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() or {}


def server(conn):
    """Version, connection limit, role (primary or standby) and the size of the target's database."""
    return _one(conn, "SELECT current_setting('server_version') AS version,"
                      " current_setting('server_version_num')::int AS version_num,"
                      " current_setting('max_connections')::int AS max_connections,"
                      " pg_is_in_recovery() AS in_recovery, current_database() AS database,"
                      " pg_database_size(current_database()) AS database_bytes")


def activity(conn, long_seconds):
    """Client connections of the server, statements running longer than `long_seconds`, sessions waiting on a
    lock another session holds. The probe's own backend is left out."""
    return _one(conn, "SELECT count(*) AS connections,"
                      " count(*) FILTER (WHERE state = 'active'"
                      "   AND now() - query_start > make_interval(secs => %s)) AS long_running,"
                      " count(*) FILTER (WHERE cardinality(pg_blocking_pids(pid)) > 0) AS blocked"
                      " FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                [float(long_seconds)])


def cache_hit(conn):
    """Share of block reads of the target's database served from shared buffers (None before any read)."""
    return _one(conn, "SELECT blks_hit::float / nullif(blks_hit + blks_read, 0) AS cache_hit_ratio"
                      " FROM pg_stat_database WHERE datname = current_database()")


def replication(conn):
    """Replication lag in seconds: on a standby how far its replay is behind, on a primary the largest replay
    lag of its replicas (None when there are none); and how many replicas are connected."""
    return _one(conn, "SELECT CASE WHEN pg_is_in_recovery()"
                      "   THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
                      "   ELSE (SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication) END::float"
                      "   AS lag_seconds,"
                      " (SELECT count(*) FROM pg_stat_replication) AS replicas")
