"""The query editor on registered targets: the run goes to the target's own query credential, the pre-run safety
check, READ ONLY and the timeouts hold there, history/saved queries/exports record the target, and every
fault is a 4xx with a code (never a 500), with nothing run and nothing lost."""

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from dbtools.models import QueryHistory, SavedQuery
from tests.targets_tools.conftest import grant

pytestmark = pytest.mark.django_db


def api_for(user, scopes=("query",), targets=None):
    _key, plaintext = api_key_create(user=user, name="t", scopes=list(scopes), targets=targets)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def analyst(make_user):
    return make_user("analyst")


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="root")


def run(client, sql, target=None, **extra):
    body = {"sql": sql, **extra}
    if target:
        body["target"] = target
    return client.post("/api/v1/query", body, format="json")


def test_run_on_pg15_target_uses_its_reader_and_records_the_target(analyst, pg15_targets):
    grant(pg15_targets["pg15ro"], "analyst", "query")
    response = run(api_for(analyst), "SELECT id, label, current_setting('server_version_num')::int / 10000 AS major,"
                   " current_user AS who FROM items ORDER BY id", "pg15ro")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row[:2] for row in body["rows"]] == [[1, "one"], [2, "two"], [3, "three"]]
    assert body["rows"][0][2] == 15 and body["rows"][0][3].startswith("pertarget_reader")
    assert body["target"] == "pg15ro"
    entry = QueryHistory.objects.get(pk=body["query_id"])
    assert (entry.target, entry.status, entry.row_count) == ("pg15ro", "success", 3)


def test_default_target_is_unchanged(analyst, pg15_targets):
    response = run(api_for(analyst), "SELECT 1")
    assert response.status_code == 200 and response.json()["target"] == "default"
    assert QueryHistory.objects.get().target == "default"


def test_read_only_and_timeout_hold_on_the_target(analyst, pg15_targets, pg15_db, settings):
    grant(pg15_targets["pg15ro"], "analyst", "query")
    client = api_for(analyst)
    refused = run(client, "INSERT INTO items VALUES (9, 'nine')", "pg15ro")
    assert refused.status_code == 403 and refused.json()["error"]["code"] in ("read_only", "permission_denied")
    settings.QUERY_EDITOR_TIMEOUT = 1
    slow = run(client, "SELECT pg_sleep(5)", "pg15ro")
    assert slow.status_code == 400 and slow.json()["error"]["code"] == "statement_timeout"
    count = run(client, "SELECT count(*) FROM items", "pg15ro")
    assert count.json()["rows"] == [[3]]  # nothing was written
    assert list(QueryHistory.objects.order_by("pk").values_list("target", "status")) == [
        ("pg15ro", "error"), ("pg15ro", "timeout"), ("pg15ro", "success")]


def test_superuser_credential_is_refused_before_any_sql(admin, pg15_targets, pg15_db):
    response = run(api_for(admin, scopes=("query",)), "DROP TABLE items", "pg15")
    assert response.status_code == 424, response.content
    error = response.json()["error"]
    assert error["code"] == "query_role_unsafe" and "superuser" in error["message"] and "pg15" in error["message"]
    from tests.targets_tools.conftest import _pg15

    with _pg15(pg15_db["dbname"]) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 3


def test_target_without_grant_is_403_and_unknown_is_404(analyst, pg15_targets):
    client = api_for(analyst)
    forbidden = run(client, "SELECT 1", "pg15ro")
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "target_forbidden"
    missing = run(client, "SELECT 1", "nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "target_not_found"
    bad = run(client, "SELECT 1", "Not A Name!")
    assert bad.status_code == 400
    assert not QueryHistory.objects.exists()  # refused before anything was logged or run


@pytest.mark.parametrize("name, words", [("refused", "refused"), ("nodns", ""), ("tlsreq", "SSL")])
def test_unreachable_targets_are_424_with_one_line(admin, broken_targets, name, words):
    response = run(api_for(admin), "SELECT 1", name)
    assert response.status_code == 424, response.content
    error = response.json()["error"]
    assert error["code"] == "target_unavailable" and name in error["message"] and "\n" not in error["message"]
    assert words in error["message"]
    assert QueryHistory.objects.get().status == "error"


def test_explain_and_export_on_the_target(analyst, pg15_targets):
    grant(pg15_targets["pg15ro"], "analyst", "query")
    client = api_for(analyst)
    plan = client.post("/api/v1/query/explain", {"sql": "SELECT * FROM items", "target": "pg15ro"}, format="json")
    assert plan.status_code == 200, plan.content
    assert any("items" in node["label"] for node in plan.json()["nodes"])
    export = client.post("/api/v1/query/export?format=csv", {"sql": "SELECT id, label FROM items ORDER BY id",
                                                             "target": "pg15ro"}, format="json")
    assert export.status_code == 200, export.content
    assert b"".join(export.streaming_content).decode().splitlines() == ["id,label", "1,one", "2,two", "3,three"]
    assert "pg15ro" in export["Content-Disposition"]
    assert list(QueryHistory.objects.order_by("pk").values_list("mode", "target")) == [
        ("explain", "pg15ro"), ("export", "pg15ro")]


def test_saved_query_keeps_its_target_and_a_deleted_target_is_404(analyst, pg15_targets):
    grant(pg15_targets["pg15ro"], "analyst", "query")
    client = api_for(analyst)
    saved = SavedQuery.objects.create(owner=analyst, name="items", sql="SELECT count(*) FROM items", target="pg15ro")
    response = client.post(f"/api/v1/saved-queries/{saved.pk}/run", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["rows"] == [[3]] and response.json()["target"] == "pg15ro"
    pg15_targets["pg15ro"].delete()
    gone = client.post(f"/api/v1/saved-queries/{saved.pk}/run", {}, format="json")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "target_not_found"
    assert SavedQuery.objects.filter(pk=saved.pk, target="pg15ro").exists()  # the saved query is kept


def test_history_filters_by_target(analyst, pg15_targets):
    grant(pg15_targets["pg15ro"], "analyst", "query")
    client = api_for(analyst)
    run(client, "SELECT 1")
    run(client, "SELECT 2", "pg15ro")
    listed = client.get("/api/v1/query-history?target=pg15ro").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(row["query"], row["target"]) for row in rows] == [("SELECT 2", "pg15ro")]


def test_api_key_limited_to_targets(analyst, pg15_targets):
    grant(pg15_targets["pg15ro"], "analyst", "query")
    client = api_for(analyst, targets=["pg15ro"])
    assert run(client, "SELECT 1", "pg15ro").status_code == 200
    refused = run(client, "SELECT 1")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "target_forbidden"
    assert QueryHistory.objects.count() == 1


def test_editor_page_runs_on_the_chosen_target_and_browses_its_schema(client, analyst, pg15_targets):
    grant(pg15_targets["pg15ro"], "analyst", "query")
    client.force_login(analyst)
    page = client.get("/admin/dbtools/query/?target=pg15ro")
    assert page.status_code == 200
    assert 'value="pg15ro" selected' in page.content.decode() and "items" in str(page.context["schema"])
    assert page.context["targets"] == ["default", "pg15ro"]  # the workspace's target picker
    ran = client.post("/admin/dbtools/query/run/", {"sql": "SELECT count(*) FROM items", "target": "pg15ro"},
                      content_type="application/json")
    assert ran.status_code == 200, ran.content
    assert ran.json()["rows"] == [[3]] and ran.json()["target"] == "pg15ro"
    refused = client.post("/admin/dbtools/query/run/", {"sql": "SELECT 1", "target": "pg15"},
                          content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "target_forbidden"
    QueryHistory.objects.all().delete()
    result = client.post("/admin/dbtools/query/", {"sql": "SELECT label FROM items ORDER BY id", "action": "run",
                                                   "target": "pg15ro"})
    assert result.status_code == 200 and result.context["rows"] == [["one"], ["two"], ["three"]]
    assert QueryHistory.objects.get().target == "pg15ro"
    refused = client.post("/admin/dbtools/query/", {"sql": "SELECT 1", "action": "run", "target": "pg15"})
    assert refused.status_code == 200 and "target" in refused.context["form"].errors  # not offered to analysts
