"""Statement history: deltas between snapshots, reset detection, windows over raw/hourly/daily rows, pages."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from dbtools.monitoring.history import partitions, selectors, services

ADMIN = "/admin/dbtools/monitoring/query-history/"
HISTORY_TABLES = ("statement_history, statement_history_hourly, statement_history_daily, statement_texts,"
                  " statement_counters, statement_snapshots")


def run(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def probe(db):
    """A table only this test queries, so its statement's counters are ours alone."""
    run("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    if not services.extension_state()[1]:
        pytest.skip("this server does not preload pg_stat_statements")
    # Raw tables outlive the flush of transactional (browser) tests: start from no snapshot, rolled back after.
    run(f"TRUNCATE {HISTORY_TABLES}")
    run("CREATE TABLE hist_probe (id int PRIMARY KEY, secret text)")
    run("INSERT INTO hist_probe SELECT g, 'x' FROM generate_series(1, 50) g")

    def workload(times):
        for number in range(times):
            run("SELECT count(*) FROM hist_probe WHERE id > %s /* customer: hunter2 */", [number])

    return workload


def probe_queryid():
    rows = run("SELECT queryid FROM statement_texts WHERE query LIKE %s", ["%hist_probe WHERE id >%"])
    assert len(rows) == 1, rows
    return rows[0][0]


def probe_calls(start, end):
    rows = selectors.top_statements(start, end, queryid=probe_queryid())
    return rows[0]["calls"] if rows else 0


def test_a_workload_between_two_snapshots_shows_with_its_call_count(probe, client_for):
    out = StringIO()
    call_command("collect_stats", stdout=out)
    assert "baseline" in out.getvalue()
    probe(7)
    call_command("collect_stats", stdout=StringIO())
    probe(3)  # after the last snapshot: not part of any interval yet
    response = client_for("viewer").get(ADMIN, {"window": "1h", "sort": "calls"})
    assert response.status_code == 200
    row = next(row for row in response.context["rows"] if row["queryid"] == probe_queryid())
    assert row["calls"] == 7 and row["total_ms"] > 0 and row["rows"] == 7
    assert b"hist_probe" in response.content


def test_a_stats_reset_in_between_gives_no_negative_numbers(probe):
    services.statement_snapshot_create()
    probe(15)
    services.statement_snapshot_create()
    run("SELECT pg_stat_statements_reset()")
    probe(20)  # more calls than before the reset: only reset detection tells these are all new
    result = services.statement_snapshot_create()
    assert result["reset_detected"]
    now = datetime.now(UTC)
    history = run("SELECT calls FROM statement_history WHERE queryid = %s ORDER BY taken_at", [probe_queryid()])
    assert [calls for (calls,) in history] == [15, 20]
    assert probe_calls(now - timedelta(hours=1), now + timedelta(minutes=1)) == 35
    negatives = run("SELECT count(*) FROM statement_history WHERE calls < 0 OR total_ms < 0 OR rows < 0"
                    " OR blks_hit < 0 OR blks_read < 0")
    assert negatives == [(0,)]


def test_a_single_statement_reset_counts_from_zero(probe):
    services.statement_snapshot_create()
    probe(9)
    services.statement_snapshot_create()
    queryid = probe_queryid()
    run("SELECT pg_stat_statements_reset(0, 0, %s)", [queryid])
    probe(4)
    services.statement_snapshot_create()
    assert run("SELECT calls FROM statement_history WHERE queryid = %s ORDER BY taken_at", [queryid]) == [(9,), (4,)]


def test_windows_add_up_across_five_minute_hourly_and_daily_rows(probe):
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=5)
    times = [day + timedelta(hours=10, minutes=5), day + timedelta(days=1, hours=10, minutes=20),
             day + timedelta(days=2, hours=12), day + timedelta(days=4, hours=9, minutes=10)]
    services.statement_snapshot_create(taken_at=times[0])
    for taken_at, calls in zip(times[1:], (3, 4, 5), strict=True):
        probe(calls)
        services.statement_snapshot_create(taken_at=taken_at)
    minute = timedelta(minutes=1)
    assert probe_calls(day, day + timedelta(days=5)) == 12
    assert probe_calls(times[1] - minute, times[2] + minute) == 7  # raw edge, hours, a whole day, raw edge
    assert probe_calls(times[1] + minute, times[3] + minute) == 9
    assert probe_calls(times[1] + minute, times[2]) == 0
    assert {level for level, _start, _end in selectors.window_segments(times[1] - minute, times[3] + minute)} == {
        "raw", "hour", "day"}


def test_history_is_partitioned_by_day_and_retention_drops_old_partitions(probe):
    long_ago = datetime.now(UTC) - timedelta(days=40)
    services.statement_snapshot_create(taken_at=long_ago)
    assert run("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'statement_history'::regclass") == [(1,)]
    assert long_ago.date() in partitions.partition_days("statement_history")
    call_command("collect_stats", "--retention-days", "30", stdout=StringIO())
    days = partitions.partition_days("statement_history")
    assert long_ago.date() not in days and datetime.now(UTC).date() in days
    assert max(days) - datetime.now(UTC).date() == timedelta(days=partitions.DAYS_AHEAD)


def test_query_text_only_for_view_query_text_others_get_a_fingerprint(probe, client_for):
    services.statement_snapshot_create()
    probe(2)
    services.statement_snapshot_create()
    viewer = client_for("viewer").get(ADMIN, {"window": "1h"}).content.decode()
    admin = client_for("admin").get(ADMIN, {"window": "1h"}).content.decode()
    assert "hist_probe" in viewer and "hunter2" not in viewer  # the fingerprint keeps the shape, not the value
    operator = client_for("operator").get(ADMIN, {"window": "1h"}).content.decode()
    assert "hunter2" in admin and "hunter2" in operator  # dbtools.view_query_text: the text as it is kept


def test_the_statement_page_shows_its_history_and_text(probe, client_for):
    services.statement_snapshot_create()
    probe(6)
    services.statement_snapshot_create()
    client = client_for("viewer")
    response = client.get(f"{ADMIN}statement/", {"queryid": probe_queryid(), "window": "24h"})
    assert response.status_code == 200
    assert response.context["totals"]["calls"] == 6 and b'id="statement-chart"' in response.content
    assert b"hist_probe" in response.content and b"<script>" not in response.content
    assert client.get(f"{ADMIN}statement/", {"queryid": "nope"}).status_code == 404
    assert client.get(f"{ADMIN}statement/", {"queryid": "1"}).status_code == 404


@pytest.mark.parametrize("params, message", [
    ({"window": "forever"}, "unknown window"),
    ({"window": "custom", "start": "yesterday", "end": "2026-11-30T10:00"}, "start must be a date"),
    ({"window": "custom", "start": "2026-11-30T10:00", "end": "2026-11-29T10:00"}, "start must be before end"),
])
def test_a_bad_window_is_a_form_error_not_a_500(client_for, db, params, message):
    response = client_for("viewer").get(ADMIN, params)
    assert response.status_code == 200 and message in response.context["window_error"]
    assert response.context["window"] == "24h"


def test_history_pages_need_view_monitoring(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody", role="nobody"))
    assert client.get(ADMIN).status_code == 403
    assert client.get(f"{ADMIN}statement/", {"queryid": "1"}).status_code == 403


@pytest.mark.parametrize("sort, key", [("total", "total_ms"), ("mean", "mean_ms"), ("calls", "calls")])
def test_each_sort_orders_the_window_by_its_column(probe, client_for, sort, key):
    services.statement_snapshot_create()
    probe(4)
    run("SELECT pg_sleep(0.05)")  # a slow statement, so the three orders differ
    services.statement_snapshot_create()
    rows = client_for("viewer").get(ADMIN, {"window": "1h", "sort": sort}).context["rows"]
    values = [row[key] for row in rows]
    assert len(rows) >= 2 and values == sorted(values, reverse=True)


def test_without_the_extension_the_size_snapshot_is_kept_and_statements_are_skipped(db):
    from dbtools.models import StatsSnapshot

    run(f"TRUNCATE {HISTORY_TABLES}")
    run("DROP EXTENSION IF EXISTS pg_stat_statements")
    out = StringIO()
    call_command("collect_stats", stdout=out)
    assert "statements: skipped (pg_stat_statements is not installed in this database)" in out.getvalue()
    assert StatsSnapshot.objects.count() == 1
    assert run("SELECT count(*) FROM statement_snapshots") == [(0,)]
