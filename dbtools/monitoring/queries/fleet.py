"""What the fleet overview reads from each target, on the probe's own psycopg connection (autocommit,
statement_timeout set when it connected; dbtools/monitoring/fleet.py), as a dict.

One statement, one round trip: a fleet page probes every target at once, so each probe is kept to the cheapest
read that answers the row (catalog views and settings; nothing walks a table). Activity counts are server-wide
(every database of the cluster: "connections vs max_connections" is a server limit).

Which database the target really is (system identifier, server start: targets/identity.py) is not part of the
row: neither can change while the probe's connection lives (a restart ends it), so the caller reads it once per
connection."""

from psycopg.rows import dict_row

from dbtools.monitoring.queries.replication import STANDBY_DELAY_SQL

STATUS_SQL = (
    "SELECT current_setting('server_version') AS version,"  # noqa: S608 (STANDBY_DELAY_SQL: a constant, no input)
    " current_setting('server_version_num')::int AS version_num,"
    " current_setting('max_connections')::int AS max_connections,"
    " pg_is_in_recovery() AS in_recovery, current_database() AS database,"
    " pg_database_size(current_database()) AS database_bytes,"
    " a.connections, a.long_running, a.blocked, d.cache_hit_ratio,"
    # standby: how far its replay is behind; primary: the largest replay lag of its replicas (None: none)
    f" CASE WHEN pg_is_in_recovery() THEN {STANDBY_DELAY_SQL} ELSE r.lag END::float AS lag_seconds, r.replicas"
    " FROM (SELECT count(*) AS connections,"
    "         count(*) FILTER (WHERE state = 'active' AND now() - query_start > make_interval(secs => %s))"
    "           AS long_running,"
    # only a backend waiting on a heavyweight lock can be blocked: pg_blocking_pids (which takes the lock
    # manager's partition locks) runs for those alone; CASE, because FILTER/AND do not promise an order
    "         count(*) FILTER (WHERE CASE WHEN wait_event_type = 'Lock'"
    "                                     THEN cardinality(pg_blocking_pids(pid)) > 0 END) AS blocked"
    "       FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) a,"
    "      (SELECT blks_hit::float / nullif(blks_hit + blks_read, 0) AS cache_hit_ratio"
    "       FROM pg_stat_database WHERE datname = current_database()) d,"
    "      (SELECT max(extract(epoch FROM replay_lag)) AS lag, count(*) AS replicas FROM pg_stat_replication) r"
)

# The same row without the database size (the caller keeps the last one: dbtools/monitoring/fleet.py).
STATUS_SQL_WITHOUT_SIZE = STATUS_SQL.replace("pg_database_size(current_database())", "NULL::bigint")


def cursor(conn):
    """The cursor status() reads with: the probe keeps one per connection (a new cursor per probe is a sixth of
    a probe's client CPU)."""
    return conn.cursor(row_factory=dict_row)


def status(cursor, long_seconds, *, with_size=True):
    """Version, connection limit and client connections (the probe's own left out), statements running longer
    than `long_seconds`, sessions waiting on another's lock, cache hit ratio and size of the target's database,
    primary or standby, replication lag and replicas; on a cursor() of the target's connection."""
    cursor.execute(STATUS_SQL if with_size else STATUS_SQL_WITHOUT_SIZE, [float(long_seconds)])
    return cursor.fetchone()
