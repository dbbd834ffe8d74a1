"""One journey through the whole product in Chromium, as an operator would make it, with a screenshot per step.

log in → posts → query editor run/export → monitoring: a live blocked query cancelled → backup created and
verified → migration history → an API key created and used → the audit trail shows it all.
"""

import pytest
import requests
from playwright.sync_api import expect

from dbtools.models import AuditEvent
from tests.browser.conftest import screenshot
from tests.factories import PostFactory
from tests.jobs.workers import InlineWorker
from tests.monitoring import conftest as monitoring_fixtures
from tests.monitoring.conftest import is_blocked, wait_for
from tests.query.conftest import query_role  # noqa: F401  (session fixture: the query roles on the test DB)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
sessions, observer = monitoring_fixtures.sessions, monitoring_fixtures.observer


def step(page, number, name):
    screenshot(page, f"journey-{number:02d}-{name}")


def test_the_whole_product(login, live_server, make_user, sessions, observer, settings, tmp_path, query_role):  # noqa: F811
    settings.BACKUP_DIR = tmp_path
    PostFactory.create_batch(4, title="Journey post")
    base = live_server.url
    page = login(make_user("admin", username="ops-lead"))
    step(page, 1, "admin-index")

    page.goto(f"{base}/admin/blog/post/")
    assert page.locator("#result_list tbody tr").count() == 4
    step(page, 2, "posts")

    page.goto(f"{base}/admin/dbtools/query/")
    page.wait_for_selector(".cm-editor")
    page.evaluate("text => window.pgdeckQueryEditor.setValue(text)", "SELECT title, count(*) FROM posts GROUP BY 1")
    page.click("button[value=run]")
    page.wait_for_selector("#query-result")
    assert "Journey post" in page.inner_text("#result_list")
    step(page, 3, "query-run")
    with page.expect_download() as download:
        page.click("button[value=export_csv]")
    assert download.value.suggested_filename.endswith(".csv")

    holder, waiter = sessions(autocommit=False), sessions()
    holder.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
    waiter.run("SELECT count(*) FROM posts")
    wait_for(lambda: is_blocked(observer, waiter.pid), what="the waiter to block")
    page.goto(f"{base}/admin/dbtools/monitoring/locks/")
    blocked_row = page.locator(f"#blocking-tree tr[data-pid='{waiter.pid}']")
    expect(blocked_row).to_have_count(1)
    step(page, 4, "monitoring-blocked")
    blocked_row.locator(".action-cancel").click()
    page.click("input[type=submit][value^='Yes, cancel']")
    expect(page.locator(".messagelist")).to_contain_text(f"Sent cancel to pid {waiter.pid}")
    waiter.join()
    assert waiter.error is not None  # the blocked statement was cancelled
    holder.conn.rollback()
    step(page, 5, "monitoring-cancelled")

    page.goto(f"{base}/admin/dbtools/backups/")
    page.click("text=Create backup")
    page.select_option("#id_format", "custom")
    page.check("#id_verify")
    with InlineWorker():  # the job worker, here a thread of the test process
        page.click("input[type=submit]")
        page.wait_for_selector("#backup-status")
        expect(page.locator("#status-text")).to_have_text("success", timeout=60000)
        expect(page.locator("#verify-text")).to_contain_text("ok at", timeout=60000)
    step(page, 6, "backup-verified")

    page.goto(f"{base}/admin/dbtools/migrations/")
    page.wait_for_selector("#mirrored-chain")
    assert "def456" in page.inner_text("#mirrored-chain")
    step(page, 7, "migrations")

    page.goto(f"{base}/admin/accounts/apikey/add/")
    page.fill("#id_name", "journey automation")
    page.check("input[name=scopes][value=read]")
    page.click("input[name=_save]")
    plaintext = page.locator(".messagelist code.api-key").inner_text().strip()
    step(page, 8, "api-key-created")
    me = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}, timeout=10)
    assert me.status_code == 200 and me.json()["username"] == "ops-lead"
    posts = requests.get(f"{base}/api/v1/posts/", headers={"Authorization": f"Bearer {plaintext}"}, timeout=10)
    assert posts.status_code == 200 and len(posts.json()["results"]) == 4

    page.goto(f"{base}/admin/dbtools/auditevent/")
    audit = page.inner_text("#result_list")
    for action in ("backend.cancel", "backup.create", "backup.verify", "api_key.create"):
        assert action in audit, action
    assert AuditEvent.objects.filter(action="backend.cancel", target=str(waiter.pid)).exists()
    step(page, 9, "audit-trail")
