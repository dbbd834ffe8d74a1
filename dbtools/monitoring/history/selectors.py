"""Reads of the statement history: a window split over raw / hourly / daily rows, top statements, series.

A window of 30 days reads ~29 daily rows per statement plus the hourly and 5-minute rows at its two edges, so it
costs about what one day costs (see bench/monitoring_history.py).
"""

from datetime import UTC, datetime, timedelta

from psycopg import sql

from dbtools.monitoring.queries.base import fetch_all

LEVELS = {  # level → (table, time column)
    "raw": ("statement_history", "taken_at"),
    "hour": ("statement_history_hourly", "bucket"),
    "day": ("statement_history_daily", "bucket"),
}
SORTS = {"total": "total_ms", "mean": "mean_ms", "calls": "calls"}
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _floor(moment, step):
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def _ceil(moment, step):
    floored = _floor(moment, step)
    return floored if floored == moment else floored + step


def _split(start, end, step, coarse, fine):
    """[start, end) as whole `step` buckets (level `coarse`) plus the edges, which `fine` splits further."""
    inner_start, inner_end = _ceil(start, step), _floor(end, step)
    if inner_start >= inner_end:
        return fine(start, end)
    return [*fine(start, inner_start), (coarse, inner_start, inner_end), *fine(inner_end, end)]


def window_segments(start, end):
    """e.g. Mon 10:20 → Wed 09:10: raw 10:20-11:00, hours 11-24, day Tue, hours 0-9, raw 09:00-09:10."""
    def raw(s, e):
        return [("raw", s, e)] if s < e else []

    def hours(s, e):
        return _split(s, e, HOUR, "hour", raw) if s < e else []

    return _split(start, end, DAY, "day", hours)


def _segments_sql(start, end, columns):
    parts, params = [], []
    for level, seg_start, seg_end in window_segments(start, end):
        table, column = LEVELS[level]
        parts.append(sql.SQL("SELECT {columns} FROM {table} WHERE {column} >= %s AND {column} < %s").format(
            columns=columns, table=sql.Identifier(table), column=sql.Identifier(column)))
        params += [seg_start, seg_end]
    return parts, params


def _fetch(statement, params):
    """Through the monitoring helper: local statement/lock timeouts, a failure becomes a note on the page."""
    return fetch_all(statement, params)


SUMS = sql.SQL("queryid, sum(calls)::bigint AS calls, sum(total_ms)::float8 AS total_ms, sum(rows)::bigint AS rows,"
               " sum(blks_hit)::bigint AS blks_hit, sum(blks_read)::bigint AS blks_read")


def top_statements(start, end, *, sort="total", limit=50, queryid=None):
    """The statements with the most total time / mean time / calls in [start, end), with their texts."""
    columns = sql.SQL("queryid, calls, total_ms, rows, blks_hit, blks_read")
    parts, params = _segments_sql(start, end, columns)
    if not parts:
        return []
    where = sql.SQL("WHERE queryid = %s") if queryid is not None else sql.SQL("")
    statement = sql.SQL(
        "WITH w AS ({union}), agg AS (SELECT {sums} FROM w {where} GROUP BY queryid),"
        " ranked AS (SELECT *, total_ms / nullif(calls, 0) AS mean_ms FROM agg ORDER BY {order} DESC NULLS LAST,"
        " queryid LIMIT %s)"
        " SELECT r.*, round((100 * r.total_ms / nullif((SELECT sum(total_ms) FROM agg), 0))::numeric, 2)::float8"
        " AS percent_of_total, t.query FROM ranked r LEFT JOIN statement_texts t ON t.queryid = r.queryid"
        " ORDER BY r.{order} DESC NULLS LAST, r.queryid").format(
        union=sql.SQL(" UNION ALL ").join(parts), sums=SUMS, where=where, order=sql.Identifier(SORTS[sort]))
    if queryid is not None:
        params = [*params, queryid]
    return _fetch(statement, [*params, limit])


def series_level(start, end):
    """The roll-up a chart over [start, end) reads: at most ~100 points, never coarser than needed."""
    span = end - start
    return "raw" if span <= timedelta(hours=6) else "hour" if span <= timedelta(days=4) else "day"


def _series_source(start, end):
    level = series_level(start, end)
    table, column = LEVELS[level]
    first = {"raw": start, "hour": _floor(start, HOUR), "day": _floor(start, DAY)}[level]
    return table, column, first


def series(queryids, start, end):
    """{queryid: [{bucket, calls, total_ms, rows}, …]} at the level series_level picks (one statement's chart)."""
    if not queryids:
        return {}
    table, column, first = _series_source(start, end)
    statement = sql.SQL(
        "SELECT queryid, {column} AS bucket, calls, total_ms, rows FROM {table}"
        " WHERE queryid = ANY(%s) AND {column} >= %s AND {column} < %s ORDER BY queryid, {column}").format(
        table=sql.Identifier(table), column=sql.Identifier(column))
    result = {queryid: [] for queryid in queryids}
    for row in _fetch(statement, [list(queryids), first, end]):
        result[row["queryid"]].append(row)
    return result


def sparklines(queryids, start, end):
    """{queryid: "3.1,0.4,…"}: total time per bucket, joined in SQL (50 short strings instead of ~1,500 rows)."""
    if not queryids:
        return {}
    table, column, first = _series_source(start, end)
    statement = sql.SQL(
        "SELECT queryid, string_agg(round(total_ms::numeric, 3)::text, ',' ORDER BY {column}) AS points"
        " FROM {table} WHERE queryid = ANY(%s) AND {column} >= %s AND {column} < %s GROUP BY queryid").format(
        table=sql.Identifier(table), column=sql.Identifier(column))
    return {row["queryid"]: row["points"] for row in _fetch(statement, [list(queryids), first, end])}


def statement_text(queryid):
    rows = _fetch(sql.SQL("SELECT queryid, query, first_seen, last_seen FROM statement_texts WHERE queryid = %s"),
                  [queryid])
    return rows[0] if rows else None


def last_snapshot():
    rows = _fetch(sql.SQL("SELECT taken_at, statements, reset_detected FROM statement_snapshots"
                          " ORDER BY taken_at DESC, id DESC LIMIT 1"), [])
    return rows[0] if rows else None
