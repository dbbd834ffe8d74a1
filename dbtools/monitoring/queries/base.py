"""The one helper every monitoring query goes through: short timeouts, a fresh statistics snapshot, dict rows.

Queries run on the default target (the app's own database, through Django's connection) unless a request put
another registered target in place with `monitoring_target(name)`: then they run on one psycopg connection of
that target's monitoring credential (from targets.seam), opened on first use and closed when the block ends.
"""

from contextlib import contextmanager
from contextvars import ContextVar

import psycopg
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from psycopg.sql import Composable

from config.dbcheck import first_line
from config.routers import read_alias
from dbtools.monitoring.queries import bound
from dbtools.targeting import DEFAULT, TARGET_ERROR_TYPES, is_default, target_error

CONNECT_TIMEOUT = 5
TIMEOUTS_SQL = ("SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),"
                " set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true),"
                " pg_stat_clear_snapshot()")


class MonitoringQueryError(Exception):
    """A monitoring query failed (timeout, lock timeout, missing privilege): one line for the page or API."""

    status, code = 503, "monitoring_query_failed"


class MonitoringTargetError(MonitoringQueryError):
    """The target itself failed: missing (404), forbidden (403), unreachable or lacking privileges (424)."""

    def __init__(self, message, *, status=424, code="target_unavailable"):
        super().__init__(message)
        self.status, self.code = status, code


class _TargetConnection:
    """One registered target's monitoring connection for the length of a request."""

    def __init__(self, name):
        self.name, self.conn = name, None

    def connection(self):
        if self.conn is None or self.conn.closed:
            from targets import seam

            try:
                params = {"connect_timeout": CONNECT_TIMEOUT, **seam.connect_kwargs(self.name, "monitoring")}
                self.conn = psycopg.connect(autocommit=True, **{**params, "application_name": "pgdeck-monitoring"})
            except TARGET_ERROR_TYPES as exc:
                status, code, message = target_error(exc)
                raise MonitoringTargetError(message, status=status, code=code) from exc
            except psycopg.Error as exc:
                raise MonitoringTargetError(f"Target {self.name!r} cannot be reached: {first_line(exc)}") from exc
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()


_current = ContextVar("pgdeck_monitoring_target", default=None)


@contextmanager
def monitoring_target(name):
    """Run the monitoring queries inside the block on target `name` (authorised by the caller)."""
    handle = None if is_default(name) else _TargetConnection(name)
    token = _current.set(handle)
    try:
        yield handle
    finally:
        _current.reset(token)
        if handle is not None:
            handle.close()


def current_target():
    handle = _current.get()
    return DEFAULT if handle is None else handle.name


def monitoring_alias():
    """The server monitoring reads (and whose backends it cancels): the replica when REPLICA_DATABASE_URL is set,
    unless MONITORING_DATABASE_ALIAS names another alias (e.g. "default" to watch and act on the primary)."""
    alias = getattr(settings, "MONITORING_DATABASE_ALIAS", "") or read_alias()
    return alias if alias in settings.DATABASES else "default"


def monitoring_connection():
    return connections[monitoring_alias()]


def server_version_num():
    """e.g. 180001 for 18.1; catalogs differ between 13 and 18, so queries branch on this."""
    if (conn := bound.bound_connection()) is not None:  # a fleet probe's target (queries/bound.py)
        return conn.info.server_version
    handle = _current.get()
    return handle.connection().info.server_version if handle else monitoring_connection().pg_version


def _timeouts():
    return (str(settings.MONITORING_STATEMENT_TIMEOUT_MS), str(settings.MONITORING_LOCK_TIMEOUT_MS))


def fetch_all(sql, params=None):
    """Run one monitoring query with SET LOCAL statement_timeout/lock_timeout; rows as dicts.

    pg_stat_clear_snapshot(): inside a transaction PostgreSQL keeps showing the first statistics snapshot
    it read, so a long transaction (a test, a nested atomic block) would otherwise see stale activity.
    When called inside an outer transaction the previous timeouts are put back, because SET LOCAL done in a
    savepoint lasts until the outer transaction ends.
    """
    if bound.bound_connection() is not None:  # a fleet probe's target (queries/bound.py)
        return bound.fetch_all_bound(sql, params, MonitoringQueryError)
    handle = _current.get()
    if handle is not None:
        return _fetch_on_target(handle, sql, params)
    connection = monitoring_connection()
    nested = connection.in_atomic_block
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(TIMEOUTS_SQL, _timeouts())
            previous = cursor.fetchone()[:2]
            if isinstance(sql, Composable):
                sql = sql.as_string(cursor.cursor.connection)
            cursor.execute(sql, params)
            columns = [column.name for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            if nested:
                cursor.execute("SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                               previous)
            return rows
    except DatabaseError as exc:
        raise MonitoringQueryError(first_line(exc.__cause__ or exc)) from exc


def _fetch_on_target(handle, sql, params):
    """The same query on a registered target: its own short transaction with the same local timeouts."""
    conn = handle.connection()
    try:
        with conn.transaction():
            conn.execute(TIMEOUTS_SQL, _timeouts())
            cursor = conn.execute(sql.as_string(conn) if isinstance(sql, Composable) else sql, params)
            columns = [column.name for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except psycopg.errors.InsufficientPrivilege as exc:
        raise MonitoringTargetError(f"The credential of target {handle.name!r} lacks a privilege this page needs: "
                                    f"{first_line(exc)}", code="target_privileges", status=403) from exc
    except psycopg.OperationalError as exc:
        if conn.closed or conn.broken:
            raise MonitoringTargetError(f"Target {handle.name!r} went away: {first_line(exc)}") from exc
        raise MonitoringQueryError(first_line(exc)) from exc
    except psycopg.Error as exc:
        raise MonitoringQueryError(first_line(exc)) from exc


def fetch_one(sql, params=None):
    rows = fetch_all(sql, params)
    return rows[0] if rows else {}
