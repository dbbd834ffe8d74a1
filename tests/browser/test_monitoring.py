"""Every monitoring screen in a real browser, with screenshots in docs/screenshots/monitoring-*.png."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from dbtools.models import AuditEvent, StatsSnapshot
from tests.browser.conftest import screenshot
from tests.factories import UserFactory
from tests.monitoring import conftest as monitoring_fixtures
from tests.monitoring.conftest import is_active, is_blocked, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
sessions, observer = monitoring_fixtures.sessions, monitoring_fixtures.observer  # the extra PostgreSQL sessions


@pytest.fixture(autouse=True)
def no_favicon(page):
    """The project has no favicon yet; its 404 would count as a console error of every screen."""
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))


@pytest.fixture
def operator(db):
    return UserFactory(username="browser-admin", role="admin", is_superuser=True)


def _snapshots():
    call_command("collect_stats", stdout=StringIO())
    call_command("collect_stats", stdout=StringIO())
    first = StatsSnapshot.objects.order_by("taken_at").first()
    StatsSnapshot.objects.filter(pk=first.pk).update(taken_at=timezone.now() - timedelta(days=1),
                                                     database_size=first.database_size - 2 * 1024 * 1024)


def test_overview_charts_draw_live_data(login, operator, live_server, settings, sessions):
    settings.MONITORING_CHART_INTERVAL_SECONDS = 1
    _snapshots()
    page = login(operator)
    page.goto(f"{live_server.url}/admin/")
    page.click("text=Monitoring")
    page.wait_for_selector("#live-charts")
    writer = sessions()
    writer.execute("CREATE TEMP TABLE churn (n int)")
    for _ in range(3):  # traffic between refreshes so the rates are not all zero
        writer.execute("INSERT INTO churn SELECT generate_series(1, 500)")
        writer.execute("UPDATE churn SET n = n + 1")
        page.wait_for_timeout(600)
    # Polled from Python: wait_for_function evaluates a string, which the CSP (no unsafe-eval) refuses.
    wait_for(lambda: int(page.get_attribute("#live-charts", "data-refreshes") or 0) >= 3, what="two refreshes")
    points = page.evaluate("Chart.getChart('chart-xacts').data.datasets[0].data.length")
    tuples = page.evaluate("Math.max(...Chart.getChart('chart-tuples').data.datasets.flatMap(d => d.data))")
    assert points >= 2 and tuples > 0
    assert page.locator("[data-rate=xact_commit]").inner_text() != "—"
    assert page.locator("#growth tbody tr").count() == 2 and page.locator("#chart-growth").is_visible()
    screenshot(page, "monitoring-overview")
    page.click("#chart-pause")
    assert page.locator("#chart-status").inner_text() == "paused"
    assert page.console_errors == []


def test_activity_cancel_with_confirmation(login, operator, live_server, settings, sessions, observer):
    settings.MONITORING_LONG_QUERY_SECONDS = 1
    sleeper = sessions()
    sleeper.run("SELECT pg_sleep(60)")
    wait_for(lambda: is_active(observer, sleeper.pid, 1.2), what="pg_sleep")
    page = login(operator)
    page.goto(f"{live_server.url}/admin/dbtools/monitoring/activity/")
    assert page.locator(f"#long-running tr[data-pid='{sleeper.pid}']").count() == 1
    screenshot(page, "monitoring-activity")
    page.click(f"#long-running tr[data-pid='{sleeper.pid}'] .action-cancel")
    page.wait_for_selector("text=Yes, cancel pid")
    screenshot(page, "monitoring-confirm-cancel")
    page.click("input[type=submit][value^='Yes, cancel']")
    page.wait_for_selector(".messagelist")
    assert f"Sent cancel to pid {sleeper.pid}" in page.locator(".messagelist").inner_text()
    sleeper.join()
    assert sleeper.error is not None
    assert AuditEvent.objects.filter(action="backend.cancel", target=str(sleeper.pid)).exists()
    assert page.console_errors == []


def test_locks_show_the_blocking_tree(login, operator, live_server, sessions, observer):
    holder, waiter = sessions(autocommit=False), sessions()
    holder.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
    waiter.run("SELECT count(*) FROM posts")
    wait_for(lambda: is_blocked(observer, waiter.pid), what="the waiter to block")
    page = login(operator)
    page.goto(f"{live_server.url}/admin/dbtools/monitoring/locks/")
    assert page.locator(f"#blocking-tree tr[data-pid='{waiter.pid}'][data-depth='1']").count() == 1
    screenshot(page, "monitoring-locks")
    holder.conn.rollback()
    waiter.join()


def test_tables_sort_by_clicking_a_header(login, operator, live_server):
    with connection.cursor() as cursor:
        for number in range(1, 8):
            cursor.execute(f"CREATE TABLE browser_t_{number} (id int PRIMARY KEY, note text)")
        cursor.execute("INSERT INTO browser_t_3 SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
        cursor.execute("ANALYZE browser_t_3")
    page = login(operator)
    page.goto(f"{live_server.url}/admin/dbtools/monitoring/tables/")
    page.click("th a[data-sort=name]")
    page.wait_for_url("**sort=name**")
    names = page.locator("#result_list tbody th").all_inner_texts()
    assert names == sorted(names)
    page.click("th a[data-sort=rows]")
    page.wait_for_url("**sort=rows**")
    assert page.locator("#result_list tbody th").first.inner_text() == "public.browser_t_3"
    screenshot(page, "monitoring-tables")


@pytest.mark.parametrize("screen, name, marker", [
    ("indexes/", "monitoring-indexes", "#duplicate-indexes"),
    ("checks/", "monitoring-checks", "#check-sequences"),
    ("query-stats/", "monitoring-query-stats", "#result_list, #query-stats-note"),
])
def test_other_screens(login, operator, live_server, screen, name, marker):
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cursor.execute("CREATE TABLE browser_seq (id serial PRIMARY KEY, a int, b int)")
        cursor.execute("CREATE INDEX browser_seq_a ON browser_seq (a)")
        cursor.execute("CREATE INDEX browser_seq_a_b ON browser_seq (a, b)")
        cursor.execute("SELECT setval('browser_seq_id_seq', 1700000000)")
    page = login(operator)
    page.goto(f"{live_server.url}/admin/dbtools/monitoring/{screen}")
    page.wait_for_selector(marker)
    assert page.locator(".errornote").count() == 0
    screenshot(page, name)
    assert page.console_errors == []
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION pg_stat_statements")
        cursor.execute("DROP TABLE browser_seq")
