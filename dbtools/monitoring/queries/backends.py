"""Signals to other backends: pg_cancel_backend (stop the statement) and pg_terminate_backend (end the session)."""

from dbtools.monitoring.queries.base import fetch_one, server_version_num

TERMINATE_WAIT_MS = 3000  # below the monitoring statement_timeout, so the wait itself cannot time out


# The signal goes out only if the pid still belongs to this database at that instant: a pid looked up a moment
# earlier may have ended and been reused by a backend of another database.
IN_DATABASE = " FROM pg_stat_activity WHERE pid = %s AND datname = current_database()"


def cancel(pid):
    row = fetch_one("SELECT pg_cancel_backend(pid) AS signalled" + IN_DATABASE, [pid])
    return bool(row.get("signalled"))


def terminate(pid):
    """From PostgreSQL 14 wait until the backend is gone, so callers see the outcome instead of a signal sent."""
    if server_version_num() >= 140000:
        row = fetch_one("SELECT pg_terminate_backend(pid, %s) AS signalled" + IN_DATABASE, [TERMINATE_WAIT_MS, pid])
    else:
        row = fetch_one("SELECT pg_terminate_backend(pid) AS signalled" + IN_DATABASE, [pid])
    return bool(row.get("signalled"))
