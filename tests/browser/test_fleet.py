"""Monitoring → Fleet in a real browser: four servers (embedded PG18, the PG15 service, a throw-away cluster
stopped for the test, a silent port), one row each; screenshot monitoring-fleet.png."""

import pytest

from dbtools.monitoring import fleet
from targets.services import target_create
from tests.browser.conftest import screenshot
from tests.factories import UserFactory
from tests.monitoring.fleet_servers import PG15, fleet_servers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
servers = fleet_servers


@pytest.fixture(autouse=True)
def no_favicon(page):
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))


def test_fleet_overview_with_one_down_and_one_slow(login, live_server, servers, settings):
    settings.FLEET_DEADLINE_SECONDS = 0.8
    fleet.forget()
    cluster, silent, pg15 = servers
    target_create(name="analytics", host="127.0.0.1", port=cluster.port, dbname="postgres", user="postgres",
                  environment="staging", notes="<script>alert(1)</script>")
    target_create(name="legacy", host="127.0.0.1", port=silent.port, dbname="x", user="x", sslmode="disable")
    if pg15:
        target_create(name="reporting-pg15", host=PG15["host"], port=PG15["port"], dbname=pg15.name,
                      user="postgres", environment="production")
    page = login(UserFactory(username="fleet-admin", role="admin", is_superuser=True))
    page.goto(f"{live_server.url}/admin/dbtools/monitoring/")
    page.click("nav.monitoring-nav >> text=Fleet")
    page.wait_for_selector("#fleet-table")
    assert page.locator('tr[data-target="analytics"]').get_attribute("data-status") == "up"
    cluster.stop()
    try:
        page.reload()
        page.wait_for_selector("#fleet-table")
        statuses = {row.get_attribute("data-target"): row.get_attribute("data-status")
                    for row in page.locator("#fleet-table tbody tr").all()}
        screenshot(page, "monitoring-fleet")
    finally:
        cluster.start()
    expected = {"default": "up", "analytics": "down", "legacy": "slow"}
    if pg15:
        expected["reporting-pg15"] = "up"
    assert statuses == expected
    analytics = page.locator('tr[data-target="analytics"]')
    assert "refused" in analytics.inner_text().lower()
    assert page.locator('tr[data-target="legacy"]').inner_text().count("no answer within") == 1
    assert "staging" in analytics.locator(".target-badge").inner_text().lower()
    assert page.locator(".fleet-summary").inner_text().lower().startswith(f"{len(expected) - 2} up 1 slow 1 down")
    assert not page.console_errors, page.console_errors
    fleet.forget()
