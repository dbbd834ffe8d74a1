"""Monitoring stays in its lane: only the app's database, only one's own editor runs for analysts, and SQL text
only for roles that may read it (everyone else, and the audit trail, get a fingerprint without values)."""

import json

import pytest
from django.test import Client

from dbtools.models import AuditEvent, QueryHistory
from tests.monitoring.conftest import is_active, wait_for

ADMIN = "/admin/dbtools/monitoring"
SECRET = "secret-literal-123"
SECRET_SQL = f"SELECT '{SECRET}', pg_sleep(30)"
ROLE_SCOPES = {"admin": ["admin"], "operator": ["monitor", "operate"], "analyst": ["monitor"], "viewer": ["monitor"]}


def running(sessions, observer, sql, **params):
    session = sessions(**params)
    session.run(sql)
    wait_for(lambda: is_active(observer, session.pid, 0.2), what="the statement to run")
    return session


def activity_pids(client, api):
    page = client.get(f"{ADMIN}/activity/", {"all": "1"})
    assert page.status_code == 200 and "query_error" not in page.context
    body = api.get("/api/v1/monitoring/activity", {"all": "1"}).json()
    return ({row["pid"] for row in page.context["backends"] + page.context["long_running"]},
            {row["pid"] for row in body["backends"] + body["long_running"]})


def lock_pids(client, api):
    page = client.get(f"{ADMIN}/locks/")
    body = api.get("/api/v1/monitoring/locks").json()
    return ({row["pid"] for row in page.context["locks"] + page.context["tree"]},
            {row["pid"] for row in body["locks"] + body["tree"]})


@pytest.fixture
def elsewhere(scratch_db, sessions, observer):
    """A backend of another database of the same cluster, in a transaction holding a lock, running a literal."""
    session = sessions(autocommit=False, conninfo=scratch_db, application_name="pgdeck-test-session")
    session.execute("CREATE TABLE other_db_table (id int)")
    session.execute("LOCK TABLE other_db_table IN ACCESS EXCLUSIVE MODE")
    session.run(SECRET_SQL)
    wait_for(lambda: is_active(observer, session.pid, 0.2), what="the other database's statement")
    return session


def test_a_backend_of_another_database_appears_for_no_role(client_for, api_client_for, elsewhere, settings):
    settings.MONITORING_LONG_QUERY_SECONDS = 0
    for role, scopes in ROLE_SCOPES.items():
        client, api = client_for(role), api_client_for(role, scopes, username=f"{role}-api")
        for pids in activity_pids(client, api) + lock_pids(client, api):
            assert elsewhere.pid not in pids, role
        page = client.get(f"{ADMIN}/activity/")
        assert SECRET not in page.content.decode(), role
        assert "scratch_" not in json.dumps(page.context["choices"], default=str), role


@pytest.mark.parametrize("action", ["cancel", "terminate"])
def test_a_backend_of_another_database_cannot_be_signalled(client_for, api_client_for, elsewhere, observer, action):
    for role in ("operator", "admin"):
        api = api_client_for(role, ["operate"], username=f"{role}-api")
        response = api.post(f"/api/v1/monitoring/backends/{elsewhere.pid}/{action}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "backend_not_found", role
        client = client_for(role)
        confirm = client.get(f"{ADMIN}/backends/{elsewhere.pid}/{action}/", follow=True)
        assert f"There is no backend with pid {elsewhere.pid}" in confirm.content.decode()
        page = client.post(f"{ADMIN}/backends/{elsewhere.pid}/{action}/", follow=True)
        assert f"There is no backend with pid {elsewhere.pid}" in page.content.decode()
    assert is_active(observer, elsewhere.pid)
    assert not AuditEvent.objects.filter(action=f"backend.{action}", details__result="signalled").exists()


@pytest.fixture
def secret_sleeper(sessions, observer):
    return running(sessions, observer, SECRET_SQL)


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_roles_without_query_text_see_no_literal(client_for, api_client_for, secret_sleeper, role, settings):
    settings.MONITORING_LONG_QUERY_SECONDS = 0
    client, api = client_for(role), api_client_for(role, ["read", "monitor"], username=f"{role}-api")
    for response in (client.get(f"{ADMIN}/activity/"), client.get(f"{ADMIN}/locks/"), client.get(f"{ADMIN}/"),
                     client.get(f"{ADMIN}/checks/"), api.get("/api/v1/monitoring/activity"),
                     api.get("/api/v1/monitoring/locks"), api.get("/api/v1/monitoring/overview")):
        assert response.status_code == 200
        assert SECRET not in response.content.decode(), response.request["PATH_INFO"]
    # Searching raw text would be an oracle for the hidden value: a search only matches what the viewer can read.
    assert client.get(f"{ADMIN}/activity/", {"search": SECRET}).context["backends"] == []
    assert api.get("/api/v1/monitoring/activity", {"search": "secret-lit"}).json()["backends"] == []


def test_viewers_see_a_fingerprint_and_operators_the_text(client_for, api_client_for, secret_sleeper):
    viewer = client_for("viewer").get(f"{ADMIN}/activity/", {"search": "pg_sleep($2)"})
    assert [(row["pid"], row["query"]) for row in viewer.context["backends"]] == [
        (secret_sleeper.pid, "SELECT $1, pg_sleep($2)")]
    operator = api_client_for("operator", ["monitor", "operate"]).get("/api/v1/monitoring/activity")
    rows = {row["pid"]: row["query"] for row in operator.json()["backends"]}
    assert rows[secret_sleeper.pid] == SECRET_SQL
    # A key's scopes narrow the role: an operator's monitor-only key reads fingerprints.
    narrow = api_client_for("operator", ["monitor"], username="operator-monitor").get("/api/v1/monitoring/activity")
    assert SECRET not in narrow.content.decode()


def test_the_audit_row_of_a_cancel_holds_no_literal(api_client_for, secret_sleeper):
    response = api_client_for("operator", ["operate"]).post(f"/api/v1/monitoring/backends/{secret_sleeper.pid}/cancel")
    assert response.status_code == 200 and response.json()["result"] == "signalled"
    secret_sleeper.join()
    event = AuditEvent.objects.get(action="backend.cancel")
    assert event.details["query"] == "SELECT $1, pg_sleep($2)"
    assert SECRET not in json.dumps(event.details) and SECRET not in event.target


def test_metrics_do_not_leak_query_text(api_client_for, secret_sleeper, settings):
    settings.MONITORING_LONG_QUERY_SECONDS = 0
    response = api_client_for("viewer", ["monitor"]).get("/metrics")
    assert response.status_code == 200 and b"pgdeck_pg_long_running_queries" in response.content
    assert SECRET.encode() not in response.content and b"pg_sleep" not in response.content


def editor_run(sessions, observer, user, sql):
    """A running query-editor statement of `user`: a session named like the editor's, and its history row."""
    session = running(sessions, observer, sql, application_name="pgdeck-query")
    QueryHistory.objects.create(user=user, query=sql, status="running", backend_pid=session.pid)
    return session


def test_analysts_see_only_their_own_editor_runs(make_user, api_client_for, sessions, observer):
    mine = editor_run(sessions, observer, make_user("analyst", username="ann"), "SELECT pg_sleep(30), 1")
    theirs = editor_run(sessions, observer, make_user("analyst", username="bob"), "SELECT pg_sleep(30), 2")
    other = running(sessions, observer, "SELECT pg_sleep(30), 3")
    client = Client()
    client.force_login(make_user("analyst", username="ann"))
    page = client.get(f"{ADMIN}/activity/")
    assert {row["pid"] for row in page.context["backends"]} == {mine.pid}
    viewer = api_client_for("viewer", ["monitor"]).get("/api/v1/monitoring/activity").json()
    assert {mine.pid, theirs.pid, other.pid} <= {row["pid"] for row in viewer["backends"]}
