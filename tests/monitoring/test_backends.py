"""Locks, long-running queries, cancel and terminate against real sessions."""

import psycopg
import pytest
from django.db import connection

from dbtools.models import AuditEvent
from tests.monitoring.conftest import is_active, is_blocked, wait_for

ADMIN = "/admin/dbtools/monitoring"


def own_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def lock_conflict(sessions, observer):
    """holder keeps an ACCESS EXCLUSIVE lock on posts inside a transaction; waiter blocks on it."""
    holder, waiter = sessions(autocommit=False), sessions()
    holder.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
    waiter.run("SELECT count(*) FROM posts")
    wait_for(lambda: is_blocked(observer, waiter.pid), what="the waiter to block")
    yield holder, waiter
    holder.conn.rollback()
    waiter.join()


def test_lock_conflict_shows_in_the_blocking_tree(client_for, lock_conflict):
    holder, waiter = lock_conflict
    response = client_for("viewer").get(f"{ADMIN}/locks/")
    assert response.status_code == 200
    tree = {row["pid"]: row for row in response.context["tree"]}
    assert tree[holder.pid]["depth"] == 0 and tree[holder.pid]["blocked_by"] == []
    assert tree[waiter.pid]["depth"] == 1 and tree[waiter.pid]["blocked_by"] == [holder.pid]
    assert "SELECT count(*) FROM posts" in tree[waiter.pid]["query"]
    assert tree[waiter.pid]["waiting_seconds"] is not None
    html = response.content.decode()
    assert f'data-pid="{waiter.pid}" data-depth="1"' in html
    assert f"waits on {holder.pid}" in html
    waiting = [row for row in response.context["locks"] if row["pid"] == waiter.pid and not row["granted"]]
    assert waiting and waiting[0]["relation"] == "posts" and waiting[0]["mode"] == "AccessShareLock"


def test_blocking_tree_through_the_api(api_client_for, lock_conflict):
    holder, waiter = lock_conflict
    response = api_client_for("viewer", ["monitor"]).get("/api/v1/monitoring/locks")
    assert response.status_code == 200
    rows = {row["pid"]: row for row in response.json()["tree"]}
    assert rows[waiter.pid]["blocked_by"] == [holder.pid]


def test_a_locked_table_makes_the_tables_page_say_so_instead_of_hanging(client_for, api_client_for, lock_conflict,
                                                                         settings):
    settings.MONITORING_LOCK_TIMEOUT_MS = 200
    response = client_for("viewer").get(f"{ADMIN}/tables/", {"q": "posts"})
    assert response.status_code == 200
    assert "lock timeout" in response.context["query_error"]
    api = api_client_for("viewer", ["read"]).get("/api/v1/monitoring/tables", {"q": "posts"})
    assert api.status_code == 503 and api.json()["error"]["code"] == "monitoring_query_failed"


@pytest.fixture
def sleeper(sessions, observer):
    session = sessions()
    session.run("SELECT pg_sleep(60)")
    wait_for(lambda: is_active(observer, session.pid, 1.2), what="pg_sleep to run for a second")
    return session


def test_pg_sleep_is_long_running_over_the_threshold(client_for, sleeper, settings):
    settings.MONITORING_LONG_QUERY_SECONDS = 1
    response = client_for("viewer").get(f"{ADMIN}/activity/")
    long_pids = [row["pid"] for row in response.context["long_running"]]
    assert sleeper.pid in long_pids
    assert b"pg_sleep($1)" in response.content  # a viewer reads the statement's fingerprint


def test_pg_sleep_is_not_long_running_under_the_threshold(client_for, sleeper, settings):
    settings.MONITORING_LONG_QUERY_SECONDS = 300
    response = client_for("viewer").get(f"{ADMIN}/activity/")
    assert sleeper.pid not in [row["pid"] for row in response.context["long_running"]]
    assert sleeper.pid in [row["pid"] for row in response.context["backends"]]


def test_activity_filters(client_for, sleeper):
    client = client_for("operator")
    found = client.get(f"{ADMIN}/activity/", {"search": "pg_sleep(60)", "state": "active"})
    assert [row["pid"] for row in found.context["backends"]] == [sleeper.pid]
    missing = client.get(f"{ADMIN}/activity/", {"search": "pg_sleep(60)", "state": "idle"})
    assert missing.context["backends"] == []
    viewer = client_for("viewer").get(f"{ADMIN}/activity/", {"search": "pg_sleep($1)", "state": "active"})
    assert [row["pid"] for row in viewer.context["backends"]] == [sleeper.pid]


def test_cancel_from_the_admin_stops_the_statement_and_is_audited(client_for, sleeper):
    client = client_for("operator")
    confirm = client.get(f"{ADMIN}/backends/{sleeper.pid}/cancel/")
    assert confirm.status_code == 200 and b"pg_sleep(60)" in confirm.content
    assert b"csrfmiddlewaretoken" in confirm.content
    response = client.post(f"{ADMIN}/backends/{sleeper.pid}/cancel/", {"next": f"{ADMIN}/activity/"})
    assert response.status_code == 302 and response["Location"] == f"{ADMIN}/activity/"
    sleeper.join()
    assert isinstance(sleeper.error, psycopg.errors.QueryCanceled)
    assert sleeper.execute("SELECT 1") == [(1,)]  # cancel keeps the session
    event = AuditEvent.objects.get(action="backend.cancel")
    assert event.target == str(sleeper.pid) and event.actor_name == "operator-user"
    assert event.details["result"] == "signalled" and event.details["query"] == "SELECT pg_sleep($1)"


def test_terminate_through_the_api_ends_the_session(api_client_for, sleeper):
    response = api_client_for("operator", ["operate"]).post(f"/api/v1/monitoring/backends/{sleeper.pid}/terminate")
    assert response.status_code == 200 and response.json()["result"] == "signalled"
    sleeper.join()
    assert sleeper.error is not None
    with pytest.raises(psycopg.OperationalError):
        sleeper.execute("SELECT 1")
    event = AuditEvent.objects.get(action="backend.terminate")
    assert event.details["pid"] == sleeper.pid and event.details["result"] == "signalled"


def test_viewers_cannot_cancel_or_terminate(client_for, api_client_for, sleeper, observer):
    client = client_for("viewer")
    assert client.get(f"{ADMIN}/backends/{sleeper.pid}/cancel/").status_code == 403
    assert client.post(f"{ADMIN}/backends/{sleeper.pid}/terminate/").status_code == 403
    api = api_client_for("viewer", ["read", "monitor"], username="viewer-api")
    denied = api.post(f"/api/v1/monitoring/backends/{sleeper.pid}/cancel")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    read_only_key = api_client_for("operator", ["read"])  # the role may, the key's scope may not
    assert read_only_key.post(f"/api/v1/monitoring/backends/{sleeper.pid}/terminate").status_code == 403
    assert is_active(observer, sleeper.pid)
    assert not AuditEvent.objects.filter(action__startswith="backend.").exists()


def test_the_apps_own_backend_is_refused(client_for, api_client_for):
    client = client_for("operator")
    pid = own_pid()
    response = client.post(f"{ADMIN}/backends/{pid}/terminate/", follow=True)
    assert "one of pgdeck&#x27;s own connections" in response.content.decode()
    api = api_client_for("admin", ["operate"], username="api-admin").post(f"/api/v1/monitoring/backends/{pid}/cancel")
    assert api.status_code == 403 and api.json()["error"]["code"] == "own_backend"
    assert own_pid() == pid  # still connected
    assert AuditEvent.objects.filter(action="backend.cancel", details__result="refused: own_backend").exists()


def test_an_unknown_pid_is_404(api_client_for, client_for):
    api = api_client_for("operator", ["operate"])
    response = api.post("/api/v1/monitoring/backends/999999/cancel")
    assert response.status_code == 404 and response.json()["error"]["code"] == "backend_not_found"
    page = client_for("operator").post(f"{ADMIN}/backends/999999/cancel/", follow=True)
    assert b"There is no backend with pid 999999" in page.content
    assert not AuditEvent.objects.filter(action__startswith="backend.").exists()


def test_settings_can_disable_cancel_and_terminate(api_client_for, client_for, sleeper, observer, settings):
    settings.MONITORING_ALLOW_CANCEL = False
    settings.MONITORING_ALLOW_TERMINATE = False
    api = api_client_for("operator", ["operate"])
    for action in ("cancel", "terminate"):
        response = api.post(f"/api/v1/monitoring/backends/{sleeper.pid}/{action}")
        assert response.status_code == 403 and response.json()["error"]["code"] == "disabled"
    page = client_for("operator", username="op2").get(f"{ADMIN}/activity/")
    assert b"Cancel\xe2\x80\xa6" not in page.content and b"Terminate\xe2\x80\xa6" not in page.content
    assert is_active(observer, sleeper.pid)


def test_operators_see_the_buttons(client_for, sleeper):
    page = client_for("operator").get(f"{ADMIN}/activity/")
    html = page.content.decode()
    assert f"/backends/{sleeper.pid}/cancel/" in html and f"/backends/{sleeper.pid}/terminate/" in html
    assert f"/backends/{sleeper.pid}/cancel/" not in client_for("viewer").get(f"{ADMIN}/activity/").content.decode()


def test_backends_with_pgdecks_application_name_are_refused(api_client_for, sessions, monkeypatch, observer):
    """Other workers' pooled connections carry the configured application_name: never cancel those."""
    from django.db import connection as django_connection

    web = sessions()
    web.execute("SET application_name = 'pgdeck-web'")
    monkeypatch.setitem(django_connection.settings_dict["OPTIONS"], "application_name", "pgdeck-web")
    response = api_client_for("operator", ["operate"]).post(f"/api/v1/monitoring/backends/{web.pid}/terminate")
    assert response.status_code == 403 and response.json()["error"]["code"] == "own_backend"
    assert web.execute("SELECT 1") == [(1,)]


def test_cancel_through_the_api_keeps_the_session(api_client_for, sleeper):
    response = api_client_for("operator", ["operate"]).post(f"/api/v1/monitoring/backends/{sleeper.pid}/cancel")
    assert response.status_code == 200 and "pg_sleep(60)" in response.json()["query"]
    sleeper.join()
    assert isinstance(sleeper.error, psycopg.errors.QueryCanceled)
    assert sleeper.execute("SELECT 2") == [(2,)]


def test_terminate_from_the_admin(client_for, sleeper):
    client = client_for("operator")
    page = client.get(f"{ADMIN}/backends/{sleeper.pid}/terminate/")
    assert b"ends the whole session" in page.content
    response = client.post(f"{ADMIN}/backends/{sleeper.pid}/terminate/", follow=True)
    assert f"Sent terminate to pid {sleeper.pid}".encode() in response.content
    sleeper.join()
    with pytest.raises(psycopg.OperationalError):
        sleeper.execute("SELECT 1")
    assert AuditEvent.objects.get(action="backend.terminate").actor_name == "operator-user"


def test_next_must_stay_on_this_site(client_for):
    response = client_for("operator").post(f"{ADMIN}/backends/999999/cancel/", {"next": "https://evil.example/"})
    assert response["Location"] == f"{ADMIN}/activity/"


def test_a_connection_pgdeck_uses_in_another_thread_is_refused(api_client_for):
    """Another request thread's pooled connection is busy (not idle in the pool): still ours, still refused."""
    import threading

    from django.db import connections

    ready, done, found = threading.Event(), threading.Event(), {}

    def other_request():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            found["pid"] = cursor.fetchone()[0]
        ready.set()
        done.wait(10)
        connections["default"].close()

    thread = threading.Thread(target=other_request)
    thread.start()
    try:
        assert ready.wait(10)
        response = api_client_for("operator", ["operate"]).post(f"/api/v1/monitoring/backends/{found['pid']}/cancel")
        assert response.status_code == 403 and response.json()["error"]["code"] == "own_backend"
    finally:
        done.set()
        thread.join(10)
