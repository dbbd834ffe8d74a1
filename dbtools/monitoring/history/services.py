"""Writes of the statement history: one snapshot of pg_stat_statements as deltas, and retention.

Source and storage are the app's own database (the "default" alias): the statements of that database only,
summed over users and top-level/nested, keyed by queryid.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dbtools.monitoring.history import partitions

# Sub-statements of one WITH all see the same snapshot, so `delta` reads the counters of the previous run while
# `counters` overwrites them. A statement is "fresh" (its whole cumulative value is this interval's delta) when it
# is new, when its calls went down (evicted and re-added, or reset by queryid), or after a reset of the whole view
# or a server restart; GREATEST keeps rounding of total time from ever giving a negative delta. Only statements
# that ran are written (counters, last_seen): with 5,000 statements most runs touch a few dozen rows.
SNAPSHOT_SQL = """
WITH cur AS (
    SELECT queryid, sum(calls)::bigint AS calls, sum({total})::float8 AS total_ms, sum(rows)::bigint AS rows,
           sum(shared_blks_hit)::bigint AS blks_hit, sum(shared_blks_read)::bigint AS blks_read
    FROM pg_stat_statements(false)
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND queryid IS NOT NULL
    GROUP BY queryid
), delta AS (
    SELECT c.queryid, c.calls AS cum_calls, c.total_ms AS cum_total_ms, c.rows AS cum_rows,
           c.blks_hit AS cum_blks_hit, c.blks_read AS cum_blks_read, f.fresh,
           CASE WHEN f.fresh THEN c.calls ELSE c.calls - p.calls END AS calls,
           CASE WHEN f.fresh THEN c.total_ms ELSE greatest(c.total_ms - p.total_ms, 0) END AS total_ms,
           CASE WHEN f.fresh THEN c.rows ELSE greatest(c.rows - p.rows, 0) END AS rows,
           CASE WHEN f.fresh THEN c.blks_hit ELSE greatest(c.blks_hit - p.blks_hit, 0) END AS blks_hit,
           CASE WHEN f.fresh THEN c.blks_read ELSE greatest(c.blks_read - p.blks_read, 0) END AS blks_read
    FROM cur c LEFT JOIN statement_counters p ON p.queryid = c.queryid
    CROSS JOIN LATERAL (SELECT p.queryid IS NULL OR %(reset)s OR c.calls < p.calls AS fresh) f
), kept AS (
    SELECT * FROM delta WHERE calls > 0 AND NOT %(baseline)s
), raw AS (
    INSERT INTO statement_history SELECT %(taken_at)s, queryid, calls, total_ms, rows, blks_hit, blks_read FROM kept
    RETURNING 1
), hourly AS (
    INSERT INTO statement_history_hourly AS h
    SELECT %(hour)s, queryid, calls, total_ms, rows, blks_hit, blks_read FROM kept
    ON CONFLICT (bucket, queryid) DO UPDATE SET calls = h.calls + EXCLUDED.calls,
        total_ms = h.total_ms + EXCLUDED.total_ms, rows = h.rows + EXCLUDED.rows,
        blks_hit = h.blks_hit + EXCLUDED.blks_hit, blks_read = h.blks_read + EXCLUDED.blks_read
), daily AS (
    INSERT INTO statement_history_daily AS d
    SELECT %(day)s, queryid, calls, total_ms, rows, blks_hit, blks_read FROM kept
    ON CONFLICT (bucket, queryid) DO UPDATE SET calls = d.calls + EXCLUDED.calls,
        total_ms = d.total_ms + EXCLUDED.total_ms, rows = d.rows + EXCLUDED.rows,
        blks_hit = d.blks_hit + EXCLUDED.blks_hit, blks_read = d.blks_read + EXCLUDED.blks_read
), counters AS (
    INSERT INTO statement_counters AS s
    SELECT queryid, cum_calls, cum_total_ms, cum_rows, cum_blks_hit, cum_blks_read FROM delta
    WHERE fresh OR calls > 0
    ON CONFLICT (queryid) DO UPDATE SET calls = EXCLUDED.calls, total_ms = EXCLUDED.total_ms,
        rows = EXCLUDED.rows, blks_hit = EXCLUDED.blks_hit, blks_read = EXCLUDED.blks_read
), seen AS (
    UPDATE statement_texts t SET last_seen = %(taken_at)s FROM kept k
    WHERE t.queryid = k.queryid AND t.last_seen < %(taken_at)s - interval '1 hour'
)
SELECT (SELECT count(*) FROM cur), (SELECT count(*) FROM raw),
       (SELECT count(*) FROM cur c WHERE NOT EXISTS (SELECT 1 FROM statement_texts t WHERE t.queryid = c.queryid))
"""

# Reading texts makes pg_stat_statements load its whole query-text file: only done when a statement is new.
TEXTS_SQL = """
INSERT INTO statement_texts (queryid, query, first_seen, last_seen)
SELECT DISTINCT ON (queryid) queryid, query, %(taken_at)s, %(taken_at)s FROM pg_stat_statements(true) s
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND queryid IS NOT NULL
  AND query IS NOT NULL AND NOT EXISTS (SELECT 1 FROM statement_texts t WHERE t.queryid = s.queryid)
ORDER BY queryid
ON CONFLICT (queryid) DO NOTHING
"""

STALE_COUNTERS_SQL = """
DELETE FROM statement_counters c WHERE NOT EXISTS (
    SELECT 1 FROM pg_stat_statements(false) s WHERE s.queryid = c.queryid
      AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
"""


class StatementsUnavailable(Exception):
    """pg_stat_statements is not installed in the app's database or its library is not loaded."""


def _one(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def extension_state():
    """(installed version or None, preloaded?) in the app's database."""
    return _one("SELECT (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'),"
                " 'pg_stat_statements' = ANY(string_to_array(replace("
                "current_setting('shared_preload_libraries'), ' ', ''), ','))")


def _version_tuple(version):
    return tuple(int(part) for part in version.split(".")[:2])


def _server_state(version):
    """When the server started and when pg_stat_statements was last reset as a whole (1.9+ only)."""
    reset_sql = "(SELECT stats_reset FROM pg_stat_statements_info)" if _version_tuple(version) >= (1, 9) else "NULL"
    return _one(f"SELECT pg_postmaster_start_time(), {reset_sql}")  # noqa: S608 (a fixed choice, no input)


def _previous():
    return _one("SELECT server_started, stats_reset FROM statement_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1")


def statement_snapshot_create(*, taken_at=None):
    """Store this interval's deltas of every statement of the app's database; returns a summary dict.

    The first snapshot only records the baseline (no history rows): there is nothing to subtract from yet.
    """
    version, preloaded = extension_state()
    if not version:
        raise StatementsUnavailable("pg_stat_statements is not installed in this database")
    if not preloaded:
        raise StatementsUnavailable("pg_stat_statements is not in shared_preload_libraries")
    taken_at = (taken_at or timezone.now()).astimezone(UTC)
    total = "total_exec_time" if _version_tuple(version) >= (1, 8) else "total_time"
    with transaction.atomic():
        server_started, stats_reset = _server_state(version)
        previous = _previous()
        baseline = previous is None
        reset = not baseline and (previous[0] != server_started or previous[1] != stats_reset)
        partitions.partitions_ensure(taken_at.date())
        hour = taken_at.replace(minute=0, second=0, microsecond=0)
        params = {"reset": reset, "baseline": baseline, "taken_at": taken_at, "hour": hour,
                  "day": hour.replace(hour=0)}
        statements, stored, new_texts = _one(SNAPSHOT_SQL.format(total=total), params)
        if new_texts:
            _run(TEXTS_SQL, params)
        if reset or statements < _one("SELECT count(*) FROM statement_counters")[0]:
            _run(STALE_COUNTERS_SQL)  # entries were evicted or reset: forget their old counters
        _run("INSERT INTO statement_snapshots (taken_at, server_started, stats_reset, statements, reset_detected)"
             " VALUES (%s, %s, %s, %s, %s)", [taken_at, server_started, stats_reset, statements, reset])
    return {"taken_at": taken_at, "statements": statements, "stored": stored, "baseline": baseline,
            "reset_detected": reset}


def _run(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def statement_history_prune(*, days=None, now=None):
    """Drop whole daily partitions older than the retention window, and the roll-ups and texts as old."""
    days = settings.MONITORING_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()).astimezone(UTC) - timedelta(days=days)
    cutoff_day = cutoff.date()
    with transaction.atomic():
        dropped = partitions.partitions_drop_before(cutoff_day)
        midnight = datetime.combine(cutoff_day, datetime.min.time(), tzinfo=UTC)
        _run("DELETE FROM statement_history_daily WHERE bucket < %s", [midnight])
        _run("DELETE FROM statement_snapshots WHERE taken_at < %s", [cutoff])
        _run("DELETE FROM statement_texts WHERE last_seen < %s", [cutoff])
    return dropped
