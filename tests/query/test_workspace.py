"""The editor as a workspace: drafts (tabs) over the API and the page, per-statement results, run what is meant."""

import json

import pytest
from django.test import Client

from dbtools.models import EditorTab, QueryHistory
from dbtools.query.runner import MAX_RESULT_SETS
from dbtools.query.safety import statement_at
from tests.query.test_api import api_for

DRAFTS = "/api/v1/query/drafts"
RUN = "/admin/dbtools/query/run/"


@pytest.fixture
def api(analyst):
    return api_for(analyst)


@pytest.fixture
def page_client(analyst):
    client = Client(enforce_csrf_checks=False)
    client.force_login(analyst)
    return client


def run_page(client, **body):
    response = client.post(RUN, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


# ---------------------------------------------------------------- drafts API

def test_drafts_crud_rename_close_reopen(api, analyst):
    created = api.post(DRAFTS, {"name": "Orders", "sql": "SELECT 1"}, format="json")
    assert created.status_code == 201, created.content
    draft = created.json()
    assert (draft["name"], draft["sql"], draft["target"], draft["closed"]) == ("Orders", "SELECT 1", "default", False)
    second = api.post(DRAFTS, {}, format="json").json()
    assert second["name"] == "Query 2" and second["position"] == draft["position"] + 1

    changed = api.patch(f"{DRAFTS}/{draft['id']}", {"sql": "SELECT 2", "name": "Renamed"}, format="json")
    assert changed.status_code == 200 and changed.json()["sql"] == "SELECT 2"
    assert api.patch(f"{DRAFTS}/{draft['id']}", {"closed": True}, format="json").json()["closed"] is True
    assert [d["id"] for d in api.get(DRAFTS).json()["results"]] == [second["id"]]
    assert [d["id"] for d in api.get(f"{DRAFTS}?closed=true").json()["results"]] == [draft["id"]]
    reopened = api.patch(f"{DRAFTS}/{draft['id']}", {"closed": False}, format="json").json()
    assert reopened["closed"] is False and reopened["sql"] == "SELECT 2" and reopened["name"] == "Renamed"
    assert reopened["position"] > second["position"]  # comes back at the end
    assert api.delete(f"{DRAFTS}/{second['id']}").status_code == 204
    assert list(EditorTab.objects.filter(owner=analyst).values_list("name", flat=True)) == ["Renamed"]


def test_drafts_are_private(api, make_user):
    other = make_user("analyst", username="someone-else")
    foreign = EditorTab.objects.create(owner=other, name="Theirs", sql="SELECT 'secret'")
    assert api.get(f"{DRAFTS}/{foreign.pk}").status_code == 404
    assert api.patch(f"{DRAFTS}/{foreign.pk}", {"sql": "x"}, format="json").status_code == 404
    assert api.delete(f"{DRAFTS}/{foreign.pk}").status_code == 404
    assert api.get(DRAFTS).json()["results"] == []
    foreign.refresh_from_db()
    assert foreign.sql == "SELECT 'secret'"


@pytest.mark.parametrize("body, code", [
    ({"sql": 5}, "invalid"),
    ({"name": ""}, "invalid"),
    ({"name": "x" * 101}, "invalid"),
    ({"closed": "yes"}, "invalid"),
    ({"owner": 1}, "unknown_field"),
    ({"last_result": {}}, "unknown_field"),
])
def test_bad_draft_bodies_are_refused_and_change_nothing(api, analyst, body, code):
    tab = EditorTab.objects.create(owner=analyst, name="Keep", sql="SELECT 1")
    response = api.patch(f"{DRAFTS}/{tab.pk}", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    tab.refresh_from_db()
    assert (tab.name, tab.sql, tab.closed_at) == ("Keep", "SELECT 1", None)


def test_draft_over_the_sql_limit_is_refused_other_tabs_untouched(api, analyst, settings):
    settings.QUERY_MAX_SQL_BYTES = 1000
    big, small = (EditorTab.objects.create(owner=analyst, name=n, sql="SELECT 1") for n in ("Big", "Small"))
    response = api.patch(f"{DRAFTS}/{big.pk}", {"sql": "SELECT '" + "x" * 1200 + "'"}, format="json")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and "not saved" in error["message"]
    huge = api.patch(f"{DRAFTS}/{big.pk}", {"sql": "x" * 200_000}, format="json")  # refused before parsing
    assert huge.status_code == 413
    assert api.post(DRAFTS, {"sql": "y" * 1001}, format="json").status_code == 413
    assert sorted(EditorTab.objects.values_list("name", "sql")) == [("Big", "SELECT 1"), ("Small", "SELECT 1")]
    assert api.patch(f"{DRAFTS}/{small.pk}", {"sql": "SELECT 2"}, format="json").status_code == 200


def test_unknown_list_parameter_and_bad_type_are_400(api):
    assert api.get(f"{DRAFTS}?color=red").json()["error"]["code"] == "unknown_parameter"
    assert api.get(f"{DRAFTS}?closed=maybe").status_code == 400


def test_drafts_need_the_run_query_permission(make_user):
    viewer = api_for(make_user("viewer", username="just-looking"), scopes=("read",))
    assert viewer.get(DRAFTS).status_code == 403
    assert viewer.post(DRAFTS, {}, format="json").status_code == 403
    assert EditorTab.objects.count() == 0


# ---------------------------------------------------------------- per-statement results

def test_api_run_returns_every_statement(api, blog_rows):
    response = api.post("/api/v1/query", {"sql": "SELECT 1 AS one;\nSELECT id FROM posts ORDER BY id;\n"
                                                  "SELECT 'a' AS x, 'b' AS y"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    first, second, third = body["statements"]
    assert (first["rows"], first["columns"][0]["name"], first["offset"]) == ([[1]], "one", 0)
    assert [r[0] for r in second["rows"]] == [p.id for p in blog_rows] and second["row_count"] == 3
    assert second["offset"] == len("SELECT 1 AS one;\n") and second["command"] == "SELECT 3"
    assert third["rows"] == [["a", "b"]] and body["rows"] == third["rows"]  # the top level is the last one
    assert all(s["duration_ms"] >= 0 and s["truncated"] is False for s in body["statements"])


def test_each_statement_is_capped_and_keeps_its_count(api, transactional_db):
    body = api.post("/api/v1/query", {"sql": "SELECT g FROM generate_series(1, 50) g; SELECT 2", "limit": 10},
                    format="json").json()
    first = body["statements"][0]
    assert len(first["rows"]) == 10 and first["truncated"] is True and first["row_count"] == 50


def test_a_long_script_keeps_rows_for_the_first_result_sets_only(api, transactional_db):
    sql = ";\n".join(f"SELECT {i} AS n" for i in range(MAX_RESULT_SETS + 20))
    body = api.post("/api/v1/query", {"sql": sql}, format="json").json()
    statements = body["statements"]
    assert len(statements) == MAX_RESULT_SETS + 20
    assert statements[0]["rows"] == [[0]] and statements[0]["rows_omitted"] is False
    assert statements[-1]["rows"] == [] and statements[-1]["rows_omitted"] is True
    assert statements[-1]["row_count"] == 1  # counted all the same


def test_page_run_of_500_statements_answers(page_client, transactional_db):
    sql = ";\n".join(f"SELECT {i} AS n" for i in range(500))
    status, body = run_page(page_client, sql=sql)
    assert status == 200 and body["statement_count"] == 500 and len(body["statements"]) == 500
    assert QueryHistory.objects.get().status == "success"


def test_error_names_the_statement_and_position(page_client, transactional_db):
    status, body = run_page(page_client, sql="SELECT 1;\nSELECT 2;\nSELECT nope FROM posts")
    assert status == 400
    error = body["error"]
    assert error["statement"] == 2 and error["position"] == len("SELECT 1;\nSELECT 2;\nSELECT ") + 1


# ---------------------------------------------------------------- run what is meant

def test_statement_at_picks_the_statement_under_the_cursor():
    text = "SELECT 1;\n\nSELECT $$a;b$$;\nSELECT 3"
    assert text[slice(*statement_at(text, 0))] == "SELECT 1"
    assert text[slice(*statement_at(text, 9))] == "SELECT 1"  # right after its semicolon
    assert text[slice(*statement_at(text, 14))] == "SELECT $$a;b$$"  # a ; inside a string does not split
    assert text[slice(*statement_at(text, len(text)))] == "SELECT 3"
    assert statement_at("SELECT 'open", 3) == (0, len("SELECT 'open"))


def test_cursor_runs_only_the_statement_under_it_and_positions_map_back(page_client, blog_rows):
    sql = "SELECT 1 AS first;\nSELECT count(*) AS n FROM posts;\nSELECT 3"
    status, body = run_page(page_client, sql=sql, cursor=sql.index("count"))
    assert status == 200 and len(body["statements"]) == 1
    assert body["statements"][0]["rows"] == [[3]] and body["base_offset"] == sql.index("SELECT count")
    assert QueryHistory.objects.get().query == "SELECT count(*) AS n FROM posts"
    bad = "SELECT 1;\nSELECT nope"
    status, body = run_page(page_client, sql=bad, cursor=len(bad))
    assert status == 400 and body["error"]["position"] == bad.index("nope") + 1  # 1-based in the whole editor


def test_page_run_records_the_tab_result_and_keeps_big_ones_small(page_client, analyst, transactional_db):
    tab = EditorTab.objects.create(owner=analyst, name="T", sql="")
    status, body = run_page(page_client, sql="SELECT g, repeat('x', 1000) FROM generate_series(1, 500) g",
                            tab_id=tab.pk)
    assert status == 200 and len(body["statements"][0]["rows"]) == 500
    tab.refresh_from_db()
    assert tab.last_result["statements"][0]["row_count"] == 500
    assert tab.last_result["statements"][0]["rows"] == [] and tab.last_result["rows_dropped"] is True
    run_page(page_client, sql="SELECT nope", tab_id=tab.pk)
    tab.refresh_from_db()
    assert tab.last_result["error"]["sqlstate"] == "42703"


def test_page_run_cuts_huge_cells_and_shows_bytea_as_hex(page_client, transactional_db):
    status, body = run_page(page_client, sql="SELECT repeat('y', 10000) AS long, '\\xdeadbeef'::bytea AS bin, "
                                             "(SELECT string_agg('c' || g, ',') FROM generate_series(1, 3) g) AS c")
    row = body["statements"][0]["rows"][0]
    assert status == 200 and len(row[0]) == 2001 and row[0].endswith("…")
    assert row[1] == "\\xdeadbeef"


def test_very_wide_results(page_client, transactional_db):
    """PostgreSQL caps a select list at 1,664 entries: 2,000 columns is the server's clear error, 1,600 run."""
    status, body = run_page(page_client, sql="SELECT " + ", ".join(f"{i} AS c{i}" for i in range(2000)))
    assert status == 400 and "at most 1664 entries" in body["error"]["message"]
    status, body = run_page(page_client, sql="SELECT " + ", ".join(f"{i} AS c{i}" for i in range(1600)))
    assert status == 200 and len(body["statements"][0]["columns"]) == 1600


@pytest.mark.parametrize("raw, status, code", [
    (b"not json", 400, "invalid"),
    (b"[1, 2]", 400, "invalid"),
    (b'{"sql": 5}', 400, "invalid"),
    (b'{"sql": "   "}', 400, "empty"),
    (b'{"sql": "SELECT :x"}', 400, "missing_parameters"),
    (b'{"sql": "BEGIN; SELECT 1"}', 400, "forbidden_statement"),
    (b'{"sql": "SELECT 1", "write": true, "confirm": true}', 403, "permission_denied"),
])
def test_bad_page_runs_are_clear_errors(page_client, transactional_db, raw, status, code):
    response = page_client.post(RUN, raw, content_type="application/json")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


def test_write_run_from_the_page_needs_confirmation(client_for, transactional_db):
    client = client_for("admin", username="boss")
    status, body = run_page(client, sql="CREATE TEMP TABLE t (x int)", write=True)
    assert status == 400 and body["error"]["code"] == "confirm_write"
    assert not QueryHistory.objects.exists()


# ---------------------------------------------------------------- the page

def test_page_lists_tabs_and_opens_a_saved_query_in_its_own_tab(page_client, analyst):
    response = page_client.get("/admin/dbtools/query/")
    state = response.context["workspace"]
    assert len(state["tabs"]) == 1 and state["tabs"][0]["name"] == "Query 1"  # a first tab is made
    history = QueryHistory.objects.create(user=analyst, query="SELECT 42", status="success")
    state = page_client.get(f"/admin/dbtools/query/?history={history.pk}").context["workspace"]
    opened = [t for t in state["tabs"] if t["id"] == state["active"]][0]
    assert (opened["sql"], opened["name"]) == ("SELECT 42", f"History #{history.pk}")
    again = page_client.get(f"/admin/dbtools/query/?history={history.pk}").context["workspace"]
    assert len(again["tabs"]) == 2 and again["active"] == opened["id"]  # the same SQL is not opened twice


def test_form_post_updates_the_posted_tab(page_client, analyst):
    tab = EditorTab.objects.create(owner=analyst, name="Mine", sql="SELECT 1")
    page_client.post("/admin/dbtools/query/", {"sql": "SELECT 2", "action": "explain", "tab_id": str(tab.pk)})
    tab.refresh_from_db()
    assert tab.sql == "SELECT 2"
