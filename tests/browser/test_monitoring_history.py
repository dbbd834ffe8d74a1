"""The pages of issue 17 in a real browser, light and dark: query history (sparklines, a statement's chart),
suggested indexes, bloat, settings tune, cancel-all confirmation, and the pausable auto-refresh of Activity."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from tests.browser.conftest import screenshot
from tests.factories import UserFactory
from tests.monitoring import conftest as monitoring_fixtures
from tests.monitoring.conftest import is_active, wait_for
from tests.monitoring.test_index_advice import PLANT, WORKLOAD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
sessions, observer = monitoring_fixtures.sessions, monitoring_fixtures.observer
MONITORING = "/admin/dbtools/monitoring"
HISTORY_TABLES = ("statement_history, statement_history_hourly, statement_history_daily, statement_texts,"
                  " statement_counters, statement_snapshots")


def run(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture(autouse=True)
def no_favicon(page):
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))


@pytest.fixture
def admin(db):
    return UserFactory(username="browser-history", role="admin", is_superuser=True)


@pytest.fixture
def statements(db):
    """pg_stat_statements in the live database, the history tables empty (flush only empties Django's tables)."""
    run("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    run(f"TRUNCATE {HISTORY_TABLES}")
    run(PLANT)
    yield
    run("DROP TABLE IF EXISTS adv_orders, adv_customers, adv_events, adv_indexed, adv_small")
    run(f"TRUNCATE {HISTORY_TABLES}")
    run("DROP EXTENSION IF EXISTS pg_stat_statements")


def workload(times):
    for _ in range(times):
        for sql, value in WORKLOAD:
            run(sql, list(value) if isinstance(value, tuple) else [value])


def both_themes(page, name):
    page.emulate_media(color_scheme="light")
    screenshot(page, name)
    page.emulate_media(color_scheme="dark")
    screenshot(page, f"{name}-dark")
    page.emulate_media(color_scheme="light")


def test_query_history_sparklines_and_a_statements_chart(login, admin, live_server, statements):
    call_command("collect_stats", stdout=StringIO())
    workload(3)
    call_command("collect_stats", stdout=StringIO())
    workload(2)
    call_command("collect_stats", stdout=StringIO())
    page = login(admin)
    page.goto(f"{live_server.url}{MONITORING}/query-history/?window=1h&sort=calls")
    page.wait_for_selector("#query-history canvas.sparkline")
    wait_for(lambda: page.evaluate("!!window.Chart && !!Chart.getChart(document.querySelector('canvas.sparkline'))"),
             what="the sparklines")
    assert page.locator("#query-history tbody tr").count() >= len(WORKLOAD)
    assert page.locator(".errornote").count() == 0
    both_themes(page, "monitoring-query-history")
    page.locator("#query-history tbody a", has_text="adv_small").first.click()
    page.wait_for_selector("#statement-chart")
    wait_for(lambda: page.evaluate("!!window.Chart && !!Chart.getChart('statement-chart')"),
             what="the statement's chart")
    assert page.locator("#total-calls").inner_text() == "5"
    both_themes(page, "monitoring-query-history-statement")
    assert page.console_errors == []


def test_suggested_indexes_bloat_and_tuning_pages(login, admin, live_server, statements):
    run("SELECT pg_stat_statements_reset()")
    workload(3)
    run("DELETE FROM adv_customers WHERE id % 10 <> 0")
    run("ANALYZE adv_customers")
    page = login(admin)
    page.goto(f"{live_server.url}{MONITORING}/index-advice/")
    page.wait_for_selector("#index-advice .suggestion")
    assert "adv_events" in page.locator("#index-advice").inner_text()
    both_themes(page, "monitoring-index-advice")
    page.goto(f"{live_server.url}{MONITORING}/bloat/")
    page.wait_for_selector("#index-bloat")
    assert "adv_customers_pkey" in page.locator("#index-bloat").inner_text()
    both_themes(page, "monitoring-bloat")
    page.goto(f"{live_server.url}{MONITORING}/tuning/")
    page.fill("#id_ram_gb", "16")
    page.fill("#id_cpus", "8")
    page.click("#tuning-machine input[type=submit]")
    page.wait_for_selector("tr[data-setting=shared_buffers]")
    assert "4 GB" in page.locator("tr[data-setting=shared_buffers]").inner_text()
    both_themes(page, "monitoring-tuning")
    assert page.console_errors == []


def test_cancel_all_confirmation_and_the_pausable_auto_refresh(login, admin, live_server, settings, sessions,
                                                                observer):
    settings.MONITORING_LONG_QUERY_SECONDS = 0
    sleepers = [sessions(), sessions()]
    for sleeper in sleepers:
        sleeper.run("SELECT pg_sleep(60)")
        wait_for(lambda s=sleeper: is_active(observer, s.pid, 0.1), what="a sleeper")
    page = login(admin)
    page.goto(f"{live_server.url}{MONITORING}/activity/")
    page.wait_for_selector("#autorefresh-toggle")
    wait_for(lambda: "last" in page.locator("#autorefresh-status").inner_text(), timeout=25,
             what="one automatic refresh")
    page.click("#autorefresh-toggle")
    assert page.locator("#autorefresh-status").inner_text() == "Auto-refresh paused."
    both_themes(page, "monitoring-activity-autorefresh")
    page.click("#autorefresh-toggle")  # resume: the next test's browser context starts clean anyway
    page.click("#cancel-all-link")
    page.wait_for_selector("#cancel-all-targets")
    listed = page.locator("#cancel-all-targets tbody").inner_text()
    assert all(str(sleeper.pid) in listed for sleeper in sleepers)
    both_themes(page, "monitoring-cancel-all")
    page.click("#content form[method=post] input[type=submit]")
    page.wait_for_selector(".messagelist")
    for sleeper in sleepers:
        sleeper.join()
        assert sleeper.error is not None
    assert page.console_errors == []
