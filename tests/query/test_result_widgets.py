"""Server side of the editor's widgets: column type names, the capped-result wording, plans kept for comparing,
and saved-query charts (validated on every path; a bad chart is a form / API / JSON error and changes nothing)."""

import json

import pytest

from dbtools.models import QueryHistory, SavedQuery
from dbtools.query.charts import clean_chart
from dbtools.query.explain import explain_query
from dbtools.query.runner import run_query
from tests.query.test_api import api_for

GOOD_CHART = {"type": "line", "x": "day", "y": ["n", "m"]}


def json_script_value(html, element_id):
    return json.loads(html.split(f'<script id="{element_id}" type="application/json">', 1)[1].split("</script>", 1)[0])


@pytest.mark.parametrize("sql, expected", [
    ("SELECT pg_sleep(0)", ["void"]),
    ("SELECT NULL::pg_catalog.txid_snapshot AS s, 1::int4 AS i, 'x'::varchar(5) AS v", ["txid_snapshot", "int4",
                                                                                        "varchar(5)"]),
    ("SELECT pg_sleep(0) AS a, g FROM generate_series(1, 3) g", ["void", "int4"]),
])
def test_column_types_are_named_by_the_server(sql, expected, analyst, blog_rows):
    result = run_query(user=analyst, sql=sql)
    assert [column["type"] for column in result.columns] == expected


def test_a_long_read_cut_at_the_cap_succeeds_and_names_its_types(analyst, blog_rows, settings):
    """Reading stops past the cap and the rest of a long query is cancelled, which aborts the (read-only, never
    committed) transaction: the run still succeeds, and built-in types are still named."""
    settings.QUERY_EDITOR_MAX_ROWS = 5
    result = run_query(user=analyst, sql="SELECT pg_sleep(0) AS nap, g FROM generate_series(1, 3000000) g")
    assert result.truncated and (result.rows_at_least, result.rows_exact) == (6, False)
    assert [c["type"] for c in result.columns] == ["void", "int4"] and [r[1] for r in result.rows] == [1, 2, 3, 4, 5]
    assert QueryHistory.objects.get(pk=result.query_id).status == "success"


def test_type_names_in_a_multi_statement_run_and_in_the_api(analyst, blog_rows):
    body = api_for(analyst).post("/api/v1/query", {"sql": "SELECT 1; SELECT pg_sleep(0) AS nap"}, format="json").json()
    assert body["columns"] == [{"name": "nap", "type": "void"}]


def test_capped_read_knows_there_are_more_rows(analyst, blog_rows, settings):
    settings.QUERY_EDITOR_MAX_ROWS = 1000
    result = run_query(user=analyst, sql="SELECT g FROM generate_series(1, 2001) g")
    assert (len(result.rows), result.row_count, result.truncated) == (1000, 1000, True)
    assert (result.rows_at_least, result.rows_exact) == (1001, False)
    assert QueryHistory.objects.get(pk=result.query_id).row_count == 1000


def test_write_run_reads_to_the_end_so_the_count_is_exact(admin_user, blog_rows, settings):
    settings.QUERY_EDITOR_MAX_ROWS = 1000
    result = run_query(user=admin_user, sql="SELECT g FROM generate_series(1, 2001) g", mode="write")
    assert (len(result.rows), result.truncated, result.rows_at_least, result.rows_exact) == (1000, True, 2001, True)


def test_uncapped_result_is_exact(analyst, blog_rows):
    body = api_for(analyst).post("/api/v1/query", {"sql": "SELECT id FROM posts"}, format="json").json()
    assert (body["rows_at_least"], body["rows_exact"], body["truncated"]) == (3, True, False)


def test_page_says_first_n_of_at_least_m_with_export_all(client_for, blog_rows, settings):
    settings.QUERY_EDITOR_MAX_ROWS = 1000
    html = client_for("analyst").post("/admin/dbtools/query/", {
        "sql": "SELECT g FROM generate_series(1, 2001) g", "action": "run"}).content.decode()
    text = " ".join(html.split())
    assert "first <strong>1000</strong> of at least 1001 rows" in text
    assert 'value="export_csv" class="export-all"' in html and 'id="query-result-json"' in html
    payload = json_script_value(html, "query-result-json")
    assert payload["truncated"] is True and len(payload["rows"]) == 1000 and payload["rows_at_least"] == 1001


def test_explain_keeps_its_plan_and_two_plans_compare(client_for, analyst, blog_rows):
    first = explain_query(user=analyst, sql_text="SELECT * FROM posts WHERE id = 1")
    second = explain_query(user=analyst, sql_text="SELECT * FROM posts ORDER BY title")
    assert QueryHistory.objects.get(pk=first.query_id).plan == first.plan
    client = client_for("analyst", username=analyst.username)
    page = client.get(f"/admin/dbtools/query/plans/compare/?a={first.query_id}&b={second.query_id}")
    assert page.status_code == 200
    plans = json_script_value(page.content.decode(), "plan-compare-json")
    assert plans["a"] == first.plan and plans["b"] == second.plan and plans["labels"] == [
        f"#{first.query_id}", f"#{second.query_id}"]
    detail = client.get(f"/admin/dbtools/queryhistory/{first.query_id}/change/").content.decode()
    assert f"/admin/dbtools/query/plans/compare/?a={first.query_id}" in detail


@pytest.mark.parametrize("query", ["a=abc&b=1", "a=999999&b=999998", "a=RUN"])
def test_compare_page_with_bad_ids_says_so(query, client_for, analyst, blog_rows):
    run = run_query(user=analyst, sql="SELECT 1")
    client = client_for("analyst", username=analyst.username)
    page = client.get("/admin/dbtools/query/plans/compare/?" + query.replace("RUN", str(run.query_id)))
    assert page.status_code == 200 and b"errornote" in page.content and b"plan-compare-json" not in page.content


def test_someone_elses_plan_is_not_shown(client_for, make_user, blog_rows):
    other = make_user("analyst", username="other-analyst")
    theirs = explain_query(user=other, sql_text="SELECT 1")
    page = client_for("analyst").get(f"/admin/dbtools/query/plans/compare/?a={theirs.query_id}&b={theirs.query_id}")
    assert b"No query history" in page.content and b"plan-compare-json" not in page.content


@pytest.mark.parametrize("value, expected", [
    (None, None), ({}, None),
    (GOOD_CHART, GOOD_CHART),
    ({"type": "bar", "x": "a", "y": "b", "title": "T"}, {"type": "bar", "x": "a", "y": ["b"], "title": "T"}),
])
def test_chart_settings_are_normalised(value, expected):
    assert clean_chart(value) == expected


@pytest.mark.parametrize("value", [
    [1], "line", {"type": "pie", "x": "a", "y": ["b"]}, {"type": "line", "x": "", "y": ["b"]},
    {"type": "line", "x": "a", "y": []}, {"type": "line", "x": "a", "y": ["b"] * 9},
    {"type": "line", "x": "a", "y": [1]}, {"type": "line", "x": "a", "y": ["b"], "color": "red"},
    {"type": "line", "x": "a" * 201, "y": ["b"]}, {"type": "line", "x": "a", "y": ["b"], "title": 5},
    {"type": "line", "x": "a\x00", "y": ["b"]}, {"type": "line", "x": "a", "y": ["b"], "title": "t\x00"},
])
def test_bad_chart_settings_are_refused(value):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        clean_chart(value)


@pytest.fixture
def saved(analyst):
    return SavedQuery.objects.create(owner=analyst, name="per day", sql="SELECT 1 AS day, 2 AS n, 3 AS m")


def test_api_saves_a_chart_and_refuses_a_bad_one(analyst, saved):
    api = api_for(analyst)
    ok = api.patch(f"/api/v1/saved-queries/{saved.pk}", {"chart": GOOD_CHART}, format="json")
    assert ok.status_code == 200 and ok.json()["chart"] == GOOD_CHART
    bad = api.patch(f"/api/v1/saved-queries/{saved.pk}", {"chart": {"type": "pie", "x": "a", "y": ["b"]},
                                                          "name": "renamed"}, format="json")
    assert bad.status_code == 400 and "error" in bad.json()
    saved.refresh_from_db()
    assert saved.chart == GOOD_CHART and saved.name == "per day"
    created = api.post("/api/v1/saved-queries", {"name": "c", "sql": "SELECT 1", "chart": {"type": "x"}}, format="json")
    assert created.status_code == 400 and not SavedQuery.objects.filter(name="c").exists()
    created = api.post("/api/v1/saved-queries", {"name": "c", "sql": "SELECT 1", "chart": GOOD_CHART}, format="json")
    assert created.status_code == 201 and SavedQuery.objects.get(name="c").chart == GOOD_CHART


def test_api_chart_is_what_the_schema_says(analyst, saved):
    """The OpenAPI schema documents chart as null, {} or the chart object (make fuzz found `[null, null]`
    rejected though the schema allowed any JSON); anything else is a 400 that changes nothing."""
    api = api_for(analyst)
    url = f"/api/v1/saved-queries/{saved.pk}"
    assert api.patch(url, {"chart": GOOD_CHART}, format="json").status_code == 200
    for chart in ([None, None], "", "line", 5):
        response = api.patch(url, {"chart": chart, "name": "renamed"}, format="json")
        assert response.status_code == 400 and "chart" in response.json()["error"]["details"], chart
    saved.refresh_from_db()
    assert saved.chart == GOOD_CHART and saved.name == "per day"
    for chart in ({}, None):
        response = api.patch(url, {"chart": chart}, format="json")
        assert response.status_code == 200 and response.json()["chart"] is None


def test_admin_chart_endpoint_saves_validates_and_guards(client_for, analyst, saved, make_user):
    client = client_for("analyst", username=analyst.username)
    url = f"/admin/dbtools/query/saved/{saved.pk}/chart/"
    ok = client.post(url, json.dumps({"chart": GOOD_CHART}), content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {"chart": GOOD_CHART}
    for body in (b"{", b"[]", b"{}", json.dumps({"chart": {"type": "pie"}}).encode()):
        bad = client.post(url, body, content_type="application/json")
        assert bad.status_code == 400 and bad.json()["error"]["message"], body
    saved.refresh_from_db()
    assert saved.chart == GOOD_CHART
    stranger = client_for("analyst", username="stranger")
    assert stranger.post(url, json.dumps({"chart": None}), content_type="application/json").status_code == 404
    saved.shared = True
    saved.save()
    assert stranger.post(url, json.dumps({"chart": None}), content_type="application/json").status_code == 403
    saved.refresh_from_db()
    assert saved.chart == GOOD_CHART


def test_chart_data_runs_the_saved_query(client_for, analyst, saved, blog_rows):
    client = client_for("analyst", username=analyst.username)
    reply = client.post(f"/admin/dbtools/query/saved/{saved.pk}/chart-data/").json()
    assert reply["result"]["rows"] == [[1, 2, 3]] and reply["editable"] is True
    saved.sql = "SELECT * FROM nowhere"
    saved.save()
    bad = client.post(f"/admin/dbtools/query/saved/{saved.pk}/chart-data/")
    assert bad.status_code == 400 and bad.json()["error"]["code"]


def test_admin_form_shows_a_bad_chart_as_a_field_error(client_for, analyst, saved):
    client = client_for("analyst", username=analyst.username)
    url = f"/admin/dbtools/savedquery/{saved.pk}/change/"
    page = client.get(url).content.decode()
    assert 'id="saved-chart"' in page and "chart.bundle" in page
    response = client.post(url, {"name": "per day", "description": "", "sql": saved.sql,
                                 "chart": json.dumps({"type": "pie", "x": "a", "y": ["b"]})})
    assert response.status_code == 200 and "Chart type must be one of" in response.content.decode()
    saved.refresh_from_db()
    assert saved.chart is None
    response = client.post(url, {"name": "per day", "description": "", "sql": saved.sql,
                                 "chart": json.dumps(GOOD_CHART)})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.chart == GOOD_CHART
