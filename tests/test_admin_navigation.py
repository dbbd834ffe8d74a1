"""Issue 18's rough edges in the tool pages: breadcrumbs through "Database tools" (which links to its own
section page), a labelled editor link on query history, and a verify result that says "ok" once."""

import re

import pytest
from django.utils import timezone

from dbtools.backups.catalog import compare
from dbtools.models import Backup, QueryHistory

pytestmark = pytest.mark.django_db
TOOLS_URL = "/admin/dbtools/"


def breadcrumbs(response):
    html = response.content.decode()
    return re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S).group(1)


@pytest.fixture
def backup(admin_user):
    expected = {"public.posts": 700, "public.users": 50, "public.audit": 30}
    ok, result = compare(expected, dict(expected))
    return Backup.objects.create(file="/tmp/none.dump", status="success", finished_at=timezone.now(),
                                 snapshot={"tables": expected}, verified_at=timezone.now(), verify_ok=ok,
                                 verify_result=result)


@pytest.mark.parametrize("page", ["", "restore/"])
def test_backup_detail_and_restore_breadcrumbs_go_through_database_tools(client_for, backup, page):
    response = client_for("admin", username="root").get(f"/admin/dbtools/backups/{backup.pk}/{page}")
    assert response.status_code == 200
    crumbs = breadcrumbs(response)
    assert f'<a href="{TOOLS_URL}">Database tools</a>' in crumbs
    assert crumbs.index("Database tools") < crumbs.index("Backups")


@pytest.mark.parametrize("url", ["/admin/dbtools/query/", "/admin/dbtools/monitoring/", "/admin/dbtools/migrations/",
                                 "/admin/dbtools/backups/"])
def test_every_tool_page_links_database_tools_in_its_breadcrumbs(client_for, url):
    response = client_for("admin", username="root").get(url)
    assert f'<a href="{TOOLS_URL}">Database tools</a>' in breadcrumbs(response)


def test_the_database_tools_header_links_to_its_section_page(client_for):
    client = client_for("admin", username="root")
    index = client.get("/admin/").content.decode()
    assert re.search(rf'<a href="{TOOLS_URL}" class="section"[^>]*>Database tools</a>', index)
    section = client.get(TOOLS_URL)
    assert section.status_code == 200
    html = section.content.decode()
    for tool in ("Query editor", "Monitoring", "Migrations", "Backups", "Audit events"):
        assert f">{tool}</a>" in html


def test_a_verified_backup_says_ok_once(client_for, backup):
    html = client_for("admin", username="root").get(f"/admin/dbtools/backups/{backup.pk}/").content.decode()
    text = re.search(r'<td id="verify-text">(.*?)</td>', html, re.S).group(1)
    assert "ok at" in text and "3 tables and 780 rows match the snapshot" in text
    assert text.count("ok") == 1


def test_query_history_detail_has_no_empty_label(client_for):
    client = client_for("admin", username="root")
    entry = QueryHistory.objects.create(query="SELECT 1", status="success", mode="read")
    html = client.get(f"/admin/dbtools/queryhistory/{entry.pk}/change/").content.decode()
    assert not re.search(r"<label>\s*:\s*</label>", html)
    assert re.search(r"<label>Editor:</label>", html) and "Open in editor" in html
