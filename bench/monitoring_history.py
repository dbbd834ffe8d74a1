"""Query history: the top-queries page over 30 days vs 1 day of 5-minute snapshots × 1,000 statements (goal ≤ 2×,
p95 ≤ 300 ms), and one snapshot of 5,000 statements (goal ≤ 200 ms)."""

import os
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test import Client

from bench.common import bench_database, summary, timed
from bench.report import write_section
from dbtools.monitoring.history import partitions, services

DAYS, STATEMENTS, STEP_MINUTES = 30, 1_000, 5
SNAPSHOT_STATEMENTS = 5_000
REPEAT, WARMUP = 20, 3
WINDOWS = (("1 hour", "1h"), ("1 day", "24h"), ("7 days", "7d"), ("30 days", "30d"))

# One row per statement per 5 minutes; calls and time vary with the statement and the time of day.
FILL_RAW = """
INSERT INTO statement_history
SELECT t, q, 1 + (q * 7 + s) %% 20, (1 + (q * 7 + s) %% 20) * (0.05 + (q %% 13) * 0.4), (q * 3 + s) %% 50,
       (q + s) %% 1000, (q * s) %% 7
FROM generate_series(0, %(snapshots)s - 1) s, LATERAL (SELECT %(start)s::timestamptz + s * interval '5 minutes') x(t),
     generate_series(1, %(statements)s) q
"""
ROLLUP = """
INSERT INTO {table} SELECT date_trunc('{unit}', taken_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', queryid, sum(calls),
       sum(total_ms), sum(rows), sum(blks_hit), sum(blks_read) FROM statement_history GROUP BY 1, 2
"""


def fill_history(now):
    start = (now - timedelta(days=DAYS)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % STEP_MINUTES)
    partitions.partitions_ensure(start.date(), now.date())
    snapshots = int((now - start) / timedelta(minutes=STEP_MINUTES))
    with connection.cursor() as cursor:
        cursor.execute(FILL_RAW, {"snapshots": snapshots, "start": start, "statements": STATEMENTS})
        cursor.execute(ROLLUP.format(table="statement_history_hourly", unit="hour"))
        cursor.execute(ROLLUP.format(table="statement_history_daily", unit="day"))
        cursor.execute("INSERT INTO statement_texts SELECT q, 'SELECT * FROM bench_' || q || ' WHERE id = $1',"
                       " %s, %s FROM generate_series(1, %s) q", [start, now, STATEMENTS])
        cursor.execute("INSERT INTO statement_snapshots (taken_at, statements)"
                       " SELECT %s::timestamptz + s * interval '5 minutes', %s FROM generate_series(0, %s - 1) s",
                       [start, STATEMENTS, snapshots])
        cursor.execute("ANALYZE statement_history, statement_history_hourly, statement_history_daily")
        cursor.execute("SELECT count(*) FROM statement_history")
        return cursor.fetchone()[0]


def measure_page(client, window):
    url = f"/admin/dbtools/monitoring/query-history/?window={window}&sort=total"
    for _ in range(WARMUP):
        response = client.get(url)
    assert response.status_code == 200 and not response.context.get("query_error"), url
    assert len(response.context["rows"]) == 50, len(response.context["rows"])
    return summary(timed(lambda: client.get(url), REPEAT))


def plant_statements():
    """5,000 distinct statements in pg_stat_statements: two-column filters over a 100-column table."""
    columns = ", ".join(f"c{n} int" for n in range(100))
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cursor.execute(f"CREATE TABLE bench_wide ({columns})")
        cursor.execute("SELECT pg_stat_statements_reset()")
        planted = 0
        for first in range(100):
            for second in range(first + 1, 100):
                cursor.execute(f"SELECT count(*) FROM bench_wide WHERE c{first} = 1 AND c{second} = 2")  # noqa: S608
                planted += 1
        for n in range(SNAPSHOT_STATEMENTS - planted):
            cursor.execute(f"SELECT c{n % 100} FROM bench_wide WHERE c{(n + 1) % 100} > 1 LIMIT {n + 1}")  # noqa: S608

        cursor.execute("SELECT count(*) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
                       " WHERE datname = current_database())")
        return cursor.fetchone()[0]


def measure_snapshot():
    tracked = plant_statements()
    services.statement_snapshot_create()  # the baseline
    results = timed(services.statement_snapshot_create, REPEAT)
    return tracked, summary(results)


def run():
    from accounts.models import User

    with bench_database("bench_pgdeck_history"):
        admin = User.objects.create_superuser("bench", "bench@example.com", "bench-pass", role="admin")
        client = Client()
        client.force_login(admin)
        rows = fill_history(datetime.now(UTC))
        pages = {label: measure_page(client, window) for label, window in WINDOWS}
        tracked, snapshot = measure_snapshot()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    write_section("monitoring_history", "Query history: 30 days vs 1 day, one snapshot of 5,000 statements",
                  render(rows, pages, tracked, snapshot, load))


def render(rows, pages, tracked, snapshot, load):
    day = pages["1 day"]["p50"]
    lines = ["| top-queries window | p50 ms | p95 ms | p50 vs 1 day |", "| --- | ---: | ---: | ---: |"]
    for label, _window in WINDOWS:
        lines.append(f"| {label} | {pages[label]['p50']:.1f} | {pages[label]['p95']:.1f} | "
                     f"{pages[label]['p50'] / day:.2f}× |")
    lines += ["", "| snapshot | statements tracked | p50 ms | p95 ms |", "| --- | ---: | ---: | ---: |",
              f"| collect (deltas + roll-ups + texts) | {tracked:,} | {snapshot['p50']:.1f} | {snapshot['p95']:.1f} |",
              "",
              f"One scratch database, the same run: {rows:,} rows of 5-minute deltas ({DAYS} days × {STATEMENTS:,} "
              "statements) in daily partitions, with their hourly and daily roll-ups. The page (top 50 by total time "
              "with sparklines, Django test client in-process, template included) read through the admin as a "
              f"superuser, {REPEAT} requests per row after {WARMUP} warm-ups. The snapshot: pg_stat_statements "
              f"holding {tracked:,} statements of the database, {REPEAT} runs after the baseline. Goals: 30 days ≤ 2× "
              f"1 day and p95 ≤ 300 ms; a snapshot ≤ 200 ms. Load average during the run: {load} (a shared 2-core "
              "machine running other work: single figures vary by ±50 %)."]
    return "\n".join(lines)
