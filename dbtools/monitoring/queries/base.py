"""The one helper every monitoring query goes through: short timeouts, a fresh statistics snapshot, dict rows."""

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from psycopg.sql import Composable

from config.dbcheck import first_line
from config.routers import read_alias
from dbtools.monitoring.queries import bound


class MonitoringQueryError(Exception):
    """A monitoring query failed (timeout, lock timeout, missing privilege): one line for the page or API."""


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
    return monitoring_connection().pg_version


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
    connection = monitoring_connection()
    nested = connection.in_atomic_block
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),"
                " set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true),"
                " pg_stat_clear_snapshot()",
                _timeouts(),
            )
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


def fetch_one(sql, params=None):
    rows = fetch_all(sql, params)
    return rows[0] if rows else {}
