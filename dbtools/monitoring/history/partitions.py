"""Daily partitions of the history tables: created a few days ahead, dropped whole when older than retention.

Dropping a partition is instant and leaves no dead tuples, unlike DELETE on one big table.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from psycopg import sql

PARTITIONED = ("statement_history", "statement_history_hourly")
DAYS_AHEAD = 2


def _name(parent, day):
    return f"{parent}_p{day:%Y%m%d}"


def _existing(parent):
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                       " WHERE i.inhparent = %s::regclass", [parent])
        return {row[0] for row in cursor.fetchall()}


def _day_start(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


def partitions_ensure(first_day, last_day=None):
    """Create the missing daily partitions of every history table from first_day to last_day (+ DAYS_AHEAD)."""
    last_day = (last_day or first_day) + timedelta(days=DAYS_AHEAD)
    created = 0
    for parent in PARTITIONED:
        existing = _existing(parent)
        day = first_day
        while day <= last_day:
            if _name(parent, day) not in existing:
                _create(parent, day)
                created += 1
            day += timedelta(days=1)
    return created


def _create(parent, day):
    statement = sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
        sql.Identifier(_name(parent, day)), sql.Identifier(parent),
        sql.Literal(_day_start(day)), sql.Literal(_day_start(day + timedelta(days=1))))
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor.connection))


def partition_days(parent):
    """The days that have a partition, oldest first (parsed from the names this module gives them)."""
    days = []
    for name in _existing(parent):
        suffix = name.removeprefix(f"{parent}_p")
        if len(suffix) == 8 and suffix.isdigit():
            days.append(date(int(suffix[:4]), int(suffix[4:6]), int(suffix[6:])))
    return sorted(days)


def partitions_drop_before(cutoff_day):
    """Drop every daily partition whose whole day lies before cutoff_day; returns how many."""
    dropped = 0
    for parent in PARTITIONED:
        for day in partition_days(parent):
            if day < cutoff_day:
                with connection.cursor() as cursor:
                    statement = sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(_name(parent, day)))
                    cursor.execute(statement.as_string(cursor.cursor.connection))
                dropped += 1
    return dropped
