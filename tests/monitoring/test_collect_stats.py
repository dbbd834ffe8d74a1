"""manage.py collect_stats: snapshots, retention, growth on the overview."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dbtools.models import StatsSnapshot


def test_collect_stats_stores_a_snapshot(db):
    out = StringIO()
    call_command("collect_stats", stdout=out)
    snapshot = StatsSnapshot.objects.get()
    assert snapshot.database_size > 0 and snapshot.xact_commit > 0
    assert snapshot.connections["total"] >= 1 and "active" in snapshot.connections["by_state"]
    assert 0 < snapshot.cache_hit_ratio <= 1
    assert snapshot.tables and {"name", "total_bytes", "estimated_rows"} <= set(snapshot.tables[0])
    assert f"snapshot {snapshot.pk}" in out.getvalue()


def test_collect_stats_prunes_past_the_retention(db, settings):
    settings.MONITORING_RETENTION_DAYS = 7
    call_command("collect_stats", stdout=StringIO())
    old = StatsSnapshot.objects.get()
    StatsSnapshot.objects.filter(pk=old.pk).update(taken_at=timezone.now() - timedelta(days=8))
    call_command("collect_stats", stdout=StringIO())
    assert not StatsSnapshot.objects.filter(pk=old.pk).exists()
    assert StatsSnapshot.objects.count() == 1


def test_bad_retention_is_a_one_line_error_and_deletes_nothing(db):
    call_command("collect_stats", stdout=StringIO())
    StatsSnapshot.objects.update(taken_at=timezone.now() - timedelta(days=400))
    with pytest.raises(CommandError, match="--retention-days must be at least 1"):
        call_command("collect_stats", "--retention-days", "0")
    assert StatsSnapshot.objects.count() == 1


def test_overview_shows_growth_over_days(client_for):
    call_command("collect_stats", stdout=StringIO())
    call_command("collect_stats", stdout=StringIO())
    first = StatsSnapshot.objects.order_by("taken_at").first()
    StatsSnapshot.objects.filter(pk=first.pk).update(taken_at=timezone.now() - timedelta(days=2),
                                                     database_size=first.database_size - 1024 * 1024)
    growth = client_for("viewer").get("/admin/dbtools/monitoring/").context["growth"]
    assert len(growth) == 2 and growth[0]["growth"] is None and growth[1]["growth"] >= 1024 * 1024


def test_a_failing_query_is_a_one_line_error_and_keeps_old_snapshots(db, sessions, settings):
    """A table locked by a migration makes the size query hit lock_timeout: no traceback, nothing lost."""
    call_command("collect_stats", stdout=StringIO())
    settings.MONITORING_LOCK_TIMEOUT_MS = 200
    holder = sessions(autocommit=False)
    holder.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
    with pytest.raises(CommandError, match="^could not collect statistics: .*lock timeout"):
        call_command("collect_stats", "--tables", "1000", stdout=StringIO())
    holder.conn.rollback()
    assert StatsSnapshot.objects.count() == 1
