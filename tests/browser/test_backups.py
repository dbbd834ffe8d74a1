"""Backups in the admin, driven in chromium: list → create (background, polled status) → verify → restore page."""

import pytest
from playwright.sync_api import expect

from tests.backups.test_lifecycle import fake_bin
from tests.browser.conftest import screenshot
from tests.factories import PostFactory
from tests.jobs.workers import InlineWorker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    return tmp_path


SLOW_FINISH = """#!/bin/sh
if [ "$1" = "--version" ]; then exec REAL/pg_dump --version; fi
REAL/pg_dump "$@" && sleep 8
"""


def test_backup_create_follow_verify_and_restore_page(login, live_server, make_user, backup_dir, settings, tmp_path):
    PostFactory.create_batch(5)
    # pg_dump lingers 8 s after writing, so the page can be seen following a running backup.
    settings.BACKUP_PG_BIN_DIRS = [str(fake_bin(tmp_path, SLOW_FINISH))]
    page = login(make_user("admin", username="admin"))
    failed = []
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and failed.append(r.url))
    page.goto(f"{live_server.url}/admin/dbtools/backups/")
    assert page.locator("h1").inner_text() == "Backups"
    page.click("text=Create backup")
    page.select_option("#id_format", "custom")
    page.check("#id_verify")
    screenshot(page, "backups-create")
    with InlineWorker():  # the queued job runs in a worker thread that sees this test's fake pg_dump
        page.click("input[type=submit]")
        page.wait_for_selector("#backup-status")
        assert page.locator("#status-text").inner_text() == "running"
        expect(page.locator("#progress-text")).to_contain_text("kB written")
        screenshot(page, "backups-running")
        # status.js polls status.json and reloads the page when the dump (then the verify) has finished.
        expect(page.locator("#status-text")).to_have_text("success", timeout=60000)
        expect(page.locator("#verify-text")).to_contain_text("ok at", timeout=60000)
    assert "posts" in page.locator("body").inner_text()
    screenshot(page, "backups-detail")
    page.click("text=Restore…")
    page.wait_for_selector("#id_confirm")
    assert "test_pgdeck" in page.locator(".errornote").inner_text()
    page.fill("#id_confirm", "not the name")
    page.click("input[type=submit]")
    page.wait_for_selector(".errorlist")
    screenshot(page, "backups-restore")
    page.goto(f"{live_server.url}/admin/dbtools/backups/")
    assert page.locator("#result_list tbody tr").count() == 1
    assert "ok" in page.locator("#result_list tbody tr").inner_text()
    screenshot(page, "backups-list")
    assert failed == []
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
