"""The migrations screen in chromium: state, history/log with filters, downgrade behind the SQL confirmation."""

import pytest
from django.db import connection

from dbtools.models import MigrationLog
from tests.browser.conftest import screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def _versions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT version_num FROM alembic_version")
        return [row[0] for row in cursor.fetchall()]


def test_migrations_history_screen_downgrade_and_upgrade(live_server, page, login, transactional_db):
    admin = UserFactory(username="root-admin", role="admin", is_superuser=True)
    MigrationLog.objects.create(action="upgrade", status="failed", revision="ghi789", from_revision="def456",
                                app_label="blog", django_migration="0003_add_slug", user="deploy-bot",
                                duration_ms=12.5, error="column \"slug\" of relation \"posts\" already exists")
    broken = []
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and broken.append(r.url))
    login(admin)
    page.goto(f"{live_server.url}/admin/")
    page.click("text=Migrations")
    page.wait_for_selector("#mirrored-chain")
    assert "Django and Alembic agree" in page.inner_text("#in-sync")
    rows = page.locator("#mirrored-chain tbody tr")
    assert rows.count() == 2 and "def456" in rows.nth(0).inner_text() and "current" in rows.nth(0).inner_text()
    screenshot(page, "migrations-index")

    page.select_option("#id_downgrade_revision", "abc123")
    page.click("text=Downgrade…")
    page.wait_for_selector(".sql-preview")
    assert "DROP TABLE posts;" in page.inner_text("#content-main")
    # Besides blog's own migration only the search indexes on its tables (dbtools.0003) are rolled back.
    assert "blog_search.0001_trigram_indexes" in page.inner_text("#cascade-warning")
    screenshot(page, "migrations-confirm-downgrade")
    assert _versions() == ["def456"]  # nothing ran yet

    page.click("#confirm-run")
    page.wait_for_selector(".messagelist .success")
    assert "alembic_version is now abc123" in page.inner_text(".messagelist")
    assert _versions() == ["abc123"]
    assert "downgrade" in page.inner_text("#log-table") and "root-admin" in page.inner_text("#log-table")

    page.click("text=Apply pending")
    page.wait_for_selector(".sql-preview")
    assert "CREATE TABLE posts" in page.inner_text("#content-main")
    page.click("#confirm-run")
    page.wait_for_selector(".messagelist .success")
    assert _versions() == ["def456"]

    log_text = page.inner_text("#log-table tbody")
    assert "deploy-bot" in log_text and "already exists" in log_text
    screenshot(page, "migrations-history")
    page.select_option("#id_status", "failed")
    page.click("#log-filters input[type=submit]")
    page.wait_for_selector("#log-table")
    rows = page.locator("#log-table tbody tr")
    assert rows.count() == 1 and "deploy-bot" in rows.nth(0).inner_text()
    page.select_option("#id_status", "")
    page.select_option("#id_action", "downgrade")
    page.click("#log-filters input[type=submit]")
    page.wait_for_selector("#log-table")
    assert "downgrade" in page.inner_text("#log-table tbody") and "deploy-bot" not in page.inner_text("#log-table")
    assert broken == []  # every page, stylesheet and icon loaded (the browser's favicon probe aside)
    assert [e for e in page.console_errors if "404" not in e] == []
