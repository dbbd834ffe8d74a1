"""pg_locks and pg_blocking_pids: granted and waiting locks, and who blocks whom."""

from dbtools.monitoring.queries.base import fetch_all, server_version_num


def _wait_started():
    """pg_locks.waitstart exists from PostgreSQL 14; before that the statement start is the best guess."""
    if server_version_num() >= 140000:
        return "(SELECT min(w.waitstart) FROM pg_locks w WHERE w.pid = a.pid AND NOT w.granted)"
    return "CASE WHEN a.wait_event_type = 'Lock' THEN a.state_change END"


def locks(limit=1000):
    """Every lock held or awaited by another backend of this database, waiting ones first."""
    waitstart = "l.waitstart" if server_version_num() >= 140000 else "NULL::timestamptz"
    return fetch_all(
        "SELECT l.pid, l.locktype, l.mode, l.granted, l.fastpath, d.datname AS database,"  # noqa: S608
        " CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text END AS relation,"
        " l.page, l.tuple, l.virtualxid, l.transactionid::text AS transactionid,"
        f" extract(epoch FROM now() - {waitstart})::float AS waiting_seconds,"
        " a.usename AS username, a.application_name, a.state, a.query"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " LEFT JOIN pg_database d ON d.oid = l.database"
        " WHERE l.pid <> pg_backend_pid() AND a.datname = current_database()"
        " ORDER BY l.granted, l.pid, l.locktype LIMIT %s",
        [limit],
    )


def blocking_backends():
    """Backends of this database that wait on another backend, plus the backends they wait on (the blocking
    tree's nodes); a blocker in another database (shared catalogs only) stays a bare pid in blocked_by."""
    return fetch_all(
        "WITH blocked AS (SELECT pid, pg_blocking_pids(pid) AS blocked_by FROM pg_stat_activity"  # noqa: S608
        "                 WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0),"
        " involved AS (SELECT pid FROM blocked UNION SELECT unnest(blocked_by) FROM blocked)"
        " SELECT a.pid, coalesce(b.blocked_by, '{}') AS blocked_by, a.usename AS username, a.datname AS database,"
        " a.application_name, a.state, a.wait_event_type, a.wait_event, a.query, a.xact_start, a.query_start,"
        " extract(epoch FROM now() - a.xact_start)::float AS transaction_seconds,"
        f" extract(epoch FROM now() - {_wait_started()})::float AS waiting_seconds,"
        " a.pid = pg_backend_pid() AS is_self"
        " FROM involved i JOIN pg_stat_activity a ON a.pid = i.pid LEFT JOIN blocked b ON b.pid = a.pid"
        " WHERE a.datname = current_database()"
        " ORDER BY a.pid"
    )
