"""Monitoring on registered targets: every screen and endpoint takes ?target=, shows that server's figures, and
a target that is missing, forbidden, unreachable or whose credential lacks privileges is a clear message with a
4xx, never a 500; cancelling a backend on a target needs the `signal` grant and is audited with the target."""

import threading

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_key_create
from dbtools.models import AuditEvent
from dbtools.monitoring.admin_views import SCREENS
from tests.targets_tools.conftest import _pg15, grant

pytestmark = pytest.mark.django_db


def api_for(user, scopes):
    _key, plaintext = api_key_create(user=user, name="t", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("admin", username="root"))
    return client


def test_overview_of_the_pg15_target(admin_client, pg15_targets):
    page = admin_client.get(reverse("admin:dbtools_monitoring") + "?target=pg15")
    assert page.status_code == 200
    assert page.context["server"]["server_version_num"] // 10000 == 15
    assert page.context["target"] == "pg15" and page.context["growth"] == []
    html = page.content.decode()
    assert "Showing target <strong>pg15</strong>" in html and "?target=pg15" in html  # the sub-navigation keeps it


@pytest.mark.parametrize("url_name", [name for name, _label in SCREENS])
def test_every_screen_answers_on_a_target(admin_client, pg15_targets, url_name):
    for target in ("pg15", "pg15ro"):  # the superuser and a reader without monitoring privileges
        page = admin_client.get(reverse(f"admin:{url_name}") + f"?target={target}")
        assert page.status_code in (200, 403), (url_name, target, page.status_code)
        if page.status_code == 403:
            assert "lacks a privilege" in page.context["query_error"]


@pytest.mark.parametrize("name, status", [("nowhere", 404), ("refused", 424), ("nodns", 424), ("tlsreq", 424)])
def test_missing_or_unreachable_target_is_a_page_note(admin_client, broken_targets, name, status):
    page = admin_client.get(reverse("admin:dbtools_monitoring_activity") + f"?target={name}")
    assert page.status_code == status
    assert name in page.context["query_error"] and "\n" not in page.context["query_error"]


def test_target_without_monitor_grant_is_403(client, make_user, pg15_targets):
    operator = make_user("operator")
    client.force_login(operator)
    url = reverse("admin:dbtools_monitoring") + "?target=pg15"
    assert client.get(url).status_code == 403
    grant(pg15_targets["pg15"], "operator", "monitor")
    assert client.get(url).status_code == 200


def test_api_takes_a_target(make_user, pg15_targets, broken_targets):
    client = api_for(make_user("admin", username="root"), ["read"])
    overview = client.get("/api/v1/monitoring/overview?target=pg15")
    assert overview.status_code == 200, overview.content
    assert overview.json()["server"]["server_version_num"] // 10000 == 15
    tables = client.get("/api/v1/monitoring/tables?target=pg15&q=items")
    assert [row["name"] for row in tables.json()["rows"]] == ["items"]
    down = client.get("/api/v1/monitoring/overview?target=refused")
    assert down.status_code == 424 and down.json()["error"]["code"] == "target_unavailable"
    missing = client.get("/api/v1/monitoring/activity?target=nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "target_not_found"


def _sleeper(dbname, started):
    with _pg15(dbname) as conn:
        conn.execute("SET application_name = 'pertarget-sleeper'")
        started.append(conn.info.backend_pid)
        try:
            conn.execute("SELECT pg_sleep(20)")
        except Exception:  # noqa: S110 - cancelled: what the test wants
            pass


def test_cancel_a_backend_on_a_target_needs_signal_and_is_audited(make_user, pg15_targets, pg15_db):
    operator = make_user("operator")
    grant(pg15_targets["pg15"], "operator", "monitor")
    client = api_for(operator, ["read", "operate"])
    started = []
    thread = threading.Thread(target=_sleeper, args=(pg15_db["dbname"], started), daemon=True)
    thread.start()
    while not started:
        thread.join(0.05)
    pid = started[0]
    with _pg15(pg15_db["dbname"]) as watcher:
        while watcher.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0] != "active":
            thread.join(0.05)
    refused = client.post(f"/api/v1/monitoring/backends/{pid}/cancel?target=pg15")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "target_forbidden"
    grant(pg15_targets["pg15"], "operator", "signal")
    done = client.post(f"/api/v1/monitoring/backends/{pid}/cancel?target=pg15")
    assert done.status_code == 200, done.content
    assert done.json()["result"] == "signalled"
    thread.join(10)
    assert not thread.is_alive()
    event = AuditEvent.objects.get(action="backend.cancel")
    assert (event.db_target, event.target) == ("pg15", str(pid))
