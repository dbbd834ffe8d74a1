"""In a real browser: an admin registers a target, the password is never shown back, and "Test connection" shows
server version, latency, TLS and privileges; a broken target shows one line."""

import pytest

from targets.models import Target
from targets.seam import default_spec
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_adds_a_target_and_tests_its_connection(login, live_server, make_user):
    spec = default_spec()
    page = login(make_user("admin", username="admin"))
    page.goto(f"{live_server.url}/admin/targets/target/add/")
    page.fill("#id_name", "reporting")
    page.fill("#id_host", spec.host)
    page.fill("#id_port", spec.port or "5432")
    page.fill("#id_dbname", spec.dbname)
    page.fill("#id_user", spec.user)
    page.fill("#id_password", "browser-secret-pw")
    page.select_option("#id_sslmode", "prefer")
    page.select_option("#id_environment", "staging")
    screenshot(page, "targets-add")
    page.click("input[name=_continue]")

    page.wait_for_selector(".messagelist")
    assert page.locator("#id_password").input_value() == ""  # write-only
    assert "browser-secret-pw" not in page.content()
    assert Target.objects.get(name="reporting").password == "browser-secret-pw"

    page.click("text=Test connection")
    page.click("#run-test")
    result = page.locator("#test-result")
    result.wait_for()
    text = result.inner_text()
    assert "Connected as" in text and "Server version" in text and "Privileges found" in text
    assert "TLS in use" in text
    # registered with the app's own database's parameters: the test says it is the same database as default
    assert "is the same database as default" in page.locator("#duplicate-warning").inner_text()
    assert page.locator("#site-name .target-badge").count() == 1
    screenshot(page, "targets-test-connection")

    Target.objects.create(name="nowhere", host="no-such-host.invalid", dbname="d", user="u", environment="production")
    page.goto(f"{live_server.url}/admin/targets/target/test/nowhere/")
    page.click("#run-test")
    error = page.locator(".target-test__error").inner_text()
    assert error == "Cannot connect: DNS failure: host 'no-such-host.invalid' does not resolve"
    screenshot(page, "targets-test-connection-failed")
