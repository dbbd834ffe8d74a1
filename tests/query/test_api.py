import threading
import time

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.services import api_key_create
from dbtools.models import AuditEvent, QueryHistory, SavedQuery
from tests.factories import PostFactory


def api_for(user, scopes=("query",)):
    _key, plaintext = api_key_create(user=user, name="test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def analyst_api(analyst):
    return api_for(analyst)


def test_query_returns_columns_types_rows_and_logs_history(analyst_api, blog_rows):
    response = analyst_api.post("/api/v1/query", {"sql": "SELECT id, title, NULL::int AS nothing, 1.5::numeric "
                                                          "AS n FROM posts ORDER BY id"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [c["name"] for c in body["columns"]] == ["id", "title", "nothing", "n"]
    assert body["columns"][1]["type"].startswith("varchar")
    assert body["rows"][0] == [blog_rows[0].id, blog_rows[0].title, None, "1.5"]
    assert body["row_count"] == 3 and body["truncated"] is False
    entry = QueryHistory.objects.get(pk=body["query_id"])
    assert (entry.status, entry.row_count, entry.mode) == ("success", 3, "read")


def test_limit_truncates_display_but_not_the_flag(analyst_api, transactional_db):
    response = analyst_api.post("/api/v1/query", {"sql": "SELECT g FROM generate_series(1, 5000) g",
                                                  "limit": 10}, format="json")
    body = response.json()
    assert len(body["rows"]) == 10 and body["truncated"] is True


def test_syntax_error_is_400_with_sqlstate_and_position(analyst_api, transactional_db):
    response = analyst_api.post("/api/v1/query", {"sql": "SELECT 1;\nSELEC 2"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "syntax_error"
    assert error["details"]["sqlstate"] == "42601"
    assert error["details"]["position"] == 11  # counted in the whole text, not the second statement
    assert QueryHistory.objects.get().status == "error"


def test_statement_timeout_is_400(analyst_api, settings, transactional_db):
    settings.QUERY_EDITOR_TIMEOUT = 1
    response = analyst_api.post("/api/v1/query", {"sql": "SELECT pg_sleep(5)"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "statement_timeout"
    assert QueryHistory.objects.get().status == "timeout"


def test_read_only_violation_is_403_and_writes_nothing(analyst_api, blog_rows):
    response = analyst_api.post("/api/v1/query", {"sql": "DELETE FROM posts"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "read_only"
    assert PostFactory._meta.model.objects.count() == 3


def test_sql_over_one_megabyte_is_413_and_nothing_is_logged(analyst_api, transactional_db):
    sql = "SELECT 1 -- " + "x" * (1024 * 1024)
    response = analyst_api.post("/api/v1/query", {"sql": sql}, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not QueryHistory.objects.exists()


def test_missing_parameter_is_400(analyst_api, transactional_db):
    response = analyst_api.post("/api/v1/query", {"sql": "SELECT :x::int"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_parameters"


def test_cancel_stops_a_sleeping_query_from_a_second_request(analyst, transactional_db):
    outcome = {}

    def run():
        try:
            response = api_for(analyst).post("/api/v1/query", {"sql": "SELECT pg_sleep(30)"}, format="json")
            outcome.update(status=response.status_code, body=response.json())
        finally:
            connections.close_all()  # this thread's own Django connection

    worker = threading.Thread(target=run)
    worker.start()
    client = api_for(analyst)
    running = []
    for _attempt in range(100):
        running = client.get("/api/v1/query-history/?status=running").json()["results"]
        if running and QueryHistory.objects.filter(pk=running[0]["id"], backend_pid__isnull=False).exists():
            break
        time.sleep(0.05)
    cancelled_at = time.monotonic()
    response = client.post(f"/api/v1/query/{running[0]['id']}/cancel")
    assert response.status_code == 200, response.content
    worker.join(10)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 2
    assert outcome["status"] == 409 and outcome["body"]["error"]["code"] == "cancelled"
    entry = QueryHistory.objects.get(pk=running[0]["id"])
    assert (entry.status, entry.cancelled) == ("cancelled", True)
    assert client.post(f"/api/v1/query/{entry.pk}/cancel").status_code == 409  # no longer running


def test_cannot_cancel_someone_elses_query(analyst, make_user, transactional_db):
    other = make_user("analyst", username="other-analyst")
    entry = QueryHistory.objects.create(user=other, query="SELECT 1", status="running")
    response = api_for(analyst).post(f"/api/v1/query/{entry.pk}/cancel")
    assert response.status_code == 404
    entry.refresh_from_db()
    assert entry.cancelled is False


def test_write_mode_needs_the_permission(analyst_api, blog_rows):
    response = analyst_api.post("/api/v1/query", {"sql": "DELETE FROM posts", "mode": "write"}, format="json")
    assert response.status_code == 403
    assert PostFactory._meta.model.objects.count() == 3


def test_write_mode_commits_on_success_and_is_audited(make_user, blog_rows):
    admin = make_user("admin", username="boss")
    client = api_for(admin, scopes=["admin"])
    response = client.post("/api/v1/query", {"sql": f"DELETE FROM posts WHERE id = {blog_rows[0].id}",
                                             "mode": "write"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["row_count"] == 1
    assert PostFactory._meta.model.objects.count() == 2
    assert AuditEvent.objects.filter(action="query.write", actor=admin).count() == 1


def test_write_mode_rolls_back_everything_when_a_statement_fails(make_user, blog_rows):
    client = api_for(make_user("admin", username="boss"), scopes=["admin"])
    response = client.post("/api/v1/query", {"sql": "DELETE FROM posts; SELECT 1/0", "mode": "write"},
                           format="json")
    assert response.status_code == 400
    assert PostFactory._meta.model.objects.count() == 3
    assert not AuditEvent.objects.filter(action="query.write").exists()


def test_write_role_cannot_touch_private_tables(make_user, transactional_db):
    client = api_for(make_user("admin", username="boss"), scopes=["admin"])
    response = client.post("/api/v1/query", {"sql": "UPDATE accounts_user SET is_superuser = true",
                                             "mode": "write"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_explain_returns_a_tree(analyst_api, blog_rows):
    response = analyst_api.post("/api/v1/query/explain", {"sql": "SELECT * FROM posts JOIN users u ON "
                                                                 "u.id = posts.user_id", "analyze": True},
                                format="json")
    assert response.status_code == 200, response.content
    nodes = response.json()["nodes"]
    assert nodes[0]["depth"] == 0 and any(n["depth"] > 0 for n in nodes)
    assert sum(1 for n in nodes if n["hot"]) >= 1
    assert all(n["actual_ms"] is not None for n in nodes)


def test_history_users_see_their_own_admins_see_all(analyst, make_user, transactional_db):
    other = make_user("analyst", username="other-analyst")
    QueryHistory.objects.create(user=other, query="SELECT 'theirs'", status="success")
    QueryHistory.objects.create(user=analyst, query="SELECT 'mine'", status="success")
    mine = api_for(analyst).get("/api/v1/query-history/").json()["results"]
    assert [e["query"] for e in mine] == ["SELECT 'mine'"]
    boss = api_for(make_user("admin", username="boss"), scopes=["admin"])
    assert len(boss.get("/api/v1/query-history/").json()["results"]) == 2
    assert len(boss.get("/api/v1/query-history/?user=other-analyst").json()["results"]) == 1


def test_scope_without_query_is_refused(analyst, transactional_db):
    response = api_for(analyst, scopes=["read"]).post("/api/v1/query", {"sql": "SELECT 1"}, format="json")
    assert response.status_code == 403
    assert not QueryHistory.objects.exists()


def test_saved_queries_crud_and_run_with_parameters(analyst_api, make_user, blog_rows):
    created = analyst_api.post("/api/v1/saved-queries/", {"name": "posts of", "sql": "SELECT title FROM posts "
                                                          "WHERE user_id = :uid AND title LIKE 'Post%'"},
                               format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    ran = analyst_api.post(f"/api/v1/saved-queries/{pk}/run", {"params": {"uid": blog_rows[0].user_id}},
                           format="json")
    assert ran.status_code == 200, ran.content
    assert ran.json()["rows"] == [[blog_rows[0].title]]
    assert SavedQuery.objects.get(pk=pk).run_count == 1
    missing = analyst_api.post(f"/api/v1/saved-queries/{pk}/run", {}, format="json")
    assert missing.status_code == 400 and SavedQuery.objects.get(pk=pk).run_count == 1
    assert analyst_api.patch(f"/api/v1/saved-queries/{pk}", {"shared": True}, format="json").status_code == 200
    other = api_for(make_user("analyst", username="other-analyst"))
    assert other.get(f"/api/v1/saved-queries/{pk}").status_code == 200  # shared: visible
    assert other.delete(f"/api/v1/saved-queries/{pk}").status_code == 403  # not the owner
    assert analyst_api.delete(f"/api/v1/saved-queries/{pk}").status_code == 204
    assert not SavedQuery.objects.exists()


def test_export_streams_csv_and_json(analyst_api, blog_rows):
    response = analyst_api.post("/api/v1/query/export?format=csv", {"sql": "SELECT id, title FROM posts ORDER BY id"},
                                format="json")
    assert response.status_code == 200
    assert response.streaming and response["Content-Disposition"].startswith('attachment; filename="query-')
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "id,title" and len(lines) == 4
    response = analyst_api.post("/api/v1/query/export?format=json", {"sql": "SELECT id, E'a\\\\b\"c' AS t "
                                                                            "FROM posts ORDER BY id"},
                                format="json")
    import json
    rows = json.loads(b"".join(response.streaming_content))
    assert rows[0] == {"id": blog_rows[0].id, "t": 'a\\b"c'} and len(rows) == 3
    entry = QueryHistory.objects.filter(mode="export").order_by("-id").first()
    assert (entry.status, entry.row_count) == ("success", 3)


def test_export_of_bad_sql_is_a_json_error_before_streaming(analyst_api, transactional_db):
    response = analyst_api.post("/api/v1/query/export?format=csv", {"sql": "SELECT nope FROM posts"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["sqlstate"] == "42703"
    response = analyst_api.post("/api/v1/query/export?format=xml", {"sql": "SELECT 1"}, format="json")
    assert response.status_code == 400


def test_explain_binds_parameters(analyst_api, blog_rows):
    response = analyst_api.post("/api/v1/query/explain", {"sql": "SELECT * FROM posts WHERE id = :id",
                                                          "params": {"id": blog_rows[0].id}}, format="json")
    assert response.status_code == 200, response.content
    assert "posts" in response.json()["nodes"][0]["label"]


def test_user_sql_cannot_lift_the_timeout(analyst_api, settings, transactional_db):
    settings.QUERY_EDITOR_TIMEOUT = 1
    response = analyst_api.post("/api/v1/query", {"sql": "SET statement_timeout = 0; SELECT pg_sleep(20)"},
                                format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "statement_timeout"
    assert QueryHistory.objects.get().status == "timeout"


def test_wide_rows_are_truncated_by_the_byte_budget(analyst_api, settings, transactional_db):
    settings.QUERY_EDITOR_MAX_BYTES = 10_000
    response = analyst_api.post("/api/v1/query", {"sql": "SELECT repeat('x', 4000) FROM generate_series(1, 50)"},
                                format="json")
    body = response.json()
    assert body["truncated"] is True and len(body["rows"]) == 3


@pytest.mark.parametrize("query", ["cursor=not-a-cursor", "cursor=cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ%3D%3D",
                                   "page_size=0", "page_size=many"])
def test_history_bad_cursor_or_page_size_is_a_documented_4xx(analyst, transactional_db, query):
    """A bad page_size is a 400; a cursor not taken from a response a 404 invalid_cursor (both in the schema)."""
    QueryHistory.objects.create(user=analyst, query="SELECT 'mine'", status="success")
    response = api_for(analyst).get(f"/api/v1/query-history?{query}")
    code = "invalid_cursor" if query.startswith("cursor") else "invalid_page_size"
    assert response.status_code == (404 if code == "invalid_cursor" else 400)
    assert response.json()["error"]["code"] == code
    assert QueryHistory.objects.count() == 1
