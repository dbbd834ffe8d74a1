"""In a real browser: an admin creates an API key, sees it once, uses it, revokes it; /api/docs/ works offline."""

import re
from urllib.parse import urlparse

import pytest
import requests

from accounts.models import ApiKey
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
KEY_RE = re.compile(r"^pgd_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}$")


def call_me(live_server, plaintext):
    return requests.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}, timeout=10)


def test_admin_creates_sees_once_uses_and_revokes_a_key(login, live_server, make_user):
    page = login(make_user("admin", username="admin"))
    page.set_viewport_size({"width": 1440, "height": 860})  # room for every changelist column
    page.goto(f"{live_server.url}/admin/accounts/apikey/add/")
    page.fill("#id_name", "nightly export")
    page.check("input[name=scopes][value=query]")
    page.select_option("#id_expires_in", "30d")
    screenshot(page, "api-keys-add")
    page.click("input[name=_save]")

    shown = page.locator(".messagelist code.api-key")
    plaintext = shown.inner_text().strip()
    assert KEY_RE.match(plaintext)
    assert page.locator(".messagelist").inner_text().count("pgd_") == 1
    screenshot(page, "api-keys-created")

    page.reload()
    assert page.locator("code.api-key").count() == 0  # shown once, never again
    assert page.locator("#result_list").inner_text().count("nightly export") == 1
    assert plaintext not in page.content()

    me = call_me(live_server, plaintext)
    assert me.status_code == 200 and me.json()["username"] == "admin"
    assert me.json()["scopes"] == ["read", "query"]

    page.click("#result_list a:has-text('nightly export')")
    page.click(".object-tools a:has-text('Revoke')")
    assert "cannot be undone" in page.locator("#content-main").inner_text()
    screenshot(page, "api-keys-revoke-confirm")
    page.click("a.cancel-link")  # changed our mind: nothing happens…
    assert ApiKey.objects.get().revoked_at is None
    page.goto(f"{live_server.url}/admin/accounts/apikey/")  # …and revoke from the list's action instead
    row = page.locator("#result_list tbody tr", has_text="nightly export")
    assert "active" in row.inner_text() and "read, query" in row.inner_text()
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "revoke_keys")
    page.click("button[name=index]")
    assert "Revoked 1 API key(s)" in page.locator(".messagelist").inner_text()
    assert "revoked" in page.locator("#result_list tbody tr", has_text="nightly export").inner_text()
    screenshot(page, "api-keys-revoked")
    assert ApiKey.objects.get().revoked_at is not None

    refused = call_me(live_server, plaintext)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "key_revoked"


def test_api_docs_render_with_no_network_but_our_server(page, live_server):
    ours = urlparse(live_server.url).netloc
    outside = []

    def only_ours(route):
        if urlparse(route.request.url).netloc == ours:
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", only_ours)
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "pgdeck API" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector("text=/api/v1/posts/")
    assert outside == [] and not page.console_errors
    screenshot(page, "api-keys-openapi-docs")
