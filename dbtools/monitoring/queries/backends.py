"""Signals to other backends: pg_cancel_backend (stop the statement) and pg_terminate_backend (end the session)."""

from dbtools.monitoring.queries.base import fetch_one, server_version_num

TERMINATE_WAIT_MS = 3000  # below the monitoring statement_timeout, so the wait itself cannot time out


def cancel(pid):
    return fetch_one("SELECT pg_cancel_backend(%s) AS signalled", [pid])["signalled"]


def terminate(pid):
    """From PostgreSQL 14 wait until the backend is gone, so callers see the outcome instead of a signal sent."""
    if server_version_num() >= 140000:
        return fetch_one("SELECT pg_terminate_backend(%s, %s) AS signalled", [pid, TERMINATE_WAIT_MS])["signalled"]
    return fetch_one("SELECT pg_terminate_backend(%s) AS signalled", [pid])["signalled"]
