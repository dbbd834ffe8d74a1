"""Monitoring queries on another server's connection: the fleet probes run the health checks (checks.py, whose
queries go through base.fetch_all) on each target's own psycopg connection instead of the app's Django one.

`bound_to(conn)` binds `conn` for the current thread (a ContextVar: each probe thread has its own); base.fetch_all
and base.server_version_num then use it. Same guarantees as base.fetch_all: local statement/lock timeouts inside
a transaction, a fresh statistics snapshot, dict rows, one-line MonitoringQueryError."""

from contextlib import contextmanager
from contextvars import ContextVar

import psycopg
from psycopg.sql import Composable

_bound = ContextVar("pgdeck_monitoring_bound_connection", default=None)


@contextmanager
def bound_to(conn, *, statement_timeout_ms, lock_timeout_ms):
    token = _bound.set((conn, str(int(statement_timeout_ms)), str(int(lock_timeout_ms))))
    try:
        yield conn
    finally:
        _bound.reset(token)


def bound_connection():
    """The psycopg connection bound to this thread, or None (then queries use the app's Django connection)."""
    bound = _bound.get()
    return bound[0] if bound else None


def fetch_all_bound(sql, params, error_class):
    conn, statement_ms, lock_ms = _bound.get()
    try:
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true),"
                           " pg_stat_clear_snapshot()", (statement_ms, lock_ms))
            if isinstance(sql, Composable):
                sql = sql.as_string(conn)
            cursor.execute(sql, params)
            columns = [column.name for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except psycopg.Error as exc:
        lines = str(exc).strip().splitlines()
        raise error_class(lines[0] if lines else exc.__class__.__name__) from exc
