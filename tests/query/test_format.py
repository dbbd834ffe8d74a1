"""Format SQL (pglast's prettifier) never changes what SQL means.

The bypass and smuggling corpora are formatted and each output is checked against the original by three
independent views: pglast's parse trees (positions left out), pglast's fingerprint and the editor's own statement
splitter. Real queries are run before and after formatting and must return the same columns and rows.
"""

import json

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pglast.parser import fingerprint
from rest_framework.test import APIClient

from dbtools.query.errors import QueryError
from dbtools.query.formatting import format_sql, statement_trees
from dbtools.query.runner import run_query
from dbtools.query.safety import split_statements
from tests.query.test_api import api_for
from tests.query.test_bypass import BYPASSES
from tests.query.test_smuggling_property import PAYLOADS, PREFIXES, SEPARATORS, TAILS, UNLOCKS, VERBS
from tests.query.test_trust_boundary import BACKSLASH_QUOTE, NESTED_COMMENT, ROLE_SETTINGS

REAL_QUERIES = [
    "select id,title from posts order by id",
    "select p.id, u.username, length(p.content) as n from posts p join users u on u.id = p.user_id "
    "where p.id > 0 and (u.username like '%' or u.id is null) order by 1 desc",
    "select user_id, count(*), max(id) filter (where id % 2 = 0) from posts group by user_id having count(*) > 0 "
    "order by user_id",
    "with recent as (select * from posts order by id desc limit 2) select id, upper(title) from recent order by id",
    "select id, row_number() over (partition by user_id order by id) rn, lag(id) over w from posts "
    "window w as (order by id) order by id",
    "select case when id % 2 = 0 then 'even' else 'odd' end, coalesce(null, title), id::text || '-' from posts "
    "order by id",
    "select * from (values (1, 'a'), (2, E'b\\nc'), (3, $$d'e$$)) v(n, s) order by n",
    "select 'it''s', U&'\\0041', B'101', x'1F', 1.5e3, -2::int, (array[1,2])[1], '{\"a\":1}'::jsonb -> 'a' ",
    "select id from posts where id in (select id from posts where title <> '') union all select 0 order by 1",
    "select g, g::numeric / 3 from generate_series(1, 5) g where not exists (select 1 from posts where id = -g) "
    "order by g",
    "select n.nspname, count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
    "where n.nspname in ('pg_catalog', 'public') group by 1 order by 1",
    "select 1 as a; select 2 as b -- trailing comment",
    "/* leading comment */ select title from posts where title ilike 'post%' order by id limit 2 offset 1",
]


def assert_same_meaning(original, formatted):
    assert statement_trees(formatted) == statement_trees(original)
    assert fingerprint(formatted) == fingerprint(original)
    try:
        count = len(split_statements(original))
    except QueryError:
        return
    assert len(split_statements(formatted)) == count


def format_or_refuse(text):
    """The formatted text, or None when formatting was refused with a clean 400 QueryError."""
    try:
        formatted = format_sql(text)
    except QueryError as error:
        assert error.status == 400 and error.code in {"format_syntax", "format_unsupported", "format_unsafe",
                                                      "invalid", "too_large"}, error.code
        return None
    assert_same_meaning(text, formatted)
    return formatted


@pytest.mark.parametrize("case, sql", BYPASSES, ids=[case for case, _sql in BYPASSES])
def test_bypass_corpus_keeps_its_meaning(case, sql):
    format_or_refuse(sql.format(victim=1234, marker="/tmp/pgdeck-marker"))


@pytest.mark.parametrize("sql", [NESTED_COMMENT, BACKSLASH_QUOTE, ROLE_SETTINGS])
def test_trust_boundary_corpus_keeps_its_meaning(sql):
    format_or_refuse(sql)


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True)
@given(st.tuples(st.sampled_from(PREFIXES), st.sampled_from(VERBS), st.sampled_from(SEPARATORS),
                 st.sampled_from(UNLOCKS), st.sampled_from(SEPARATORS), st.sampled_from(PAYLOADS),
                 st.sampled_from(TAILS)))
def test_smuggling_variants_keep_their_meaning(parts):
    format_or_refuse("".join(parts))


def test_most_of_the_corpus_is_actually_formatted():
    """The checks above must not pass by refusing everything."""
    formatted = [format_or_refuse(sql.format(victim=1, marker="/tmp/m")) for _case, sql in BYPASSES]
    assert sum(f is not None for f in formatted) >= len(BYPASSES) * 3 // 4


@pytest.mark.parametrize("sql", REAL_QUERIES)
def test_real_queries_return_the_same_rows_formatted(sql, analyst, blog_rows):
    formatted = format_sql(sql)
    assert formatted != sql
    before, after = run_query(user=analyst, sql=sql), run_query(user=analyst, sql=formatted)
    assert after.columns == before.columns and after.rows == before.rows and before.rows


def test_comments_are_kept_and_output_is_readable():
    formatted = format_sql("select a,b from t where x=1 -- why\n")
    assert formatted.startswith("SELECT a\n") and "-- why" in formatted and "WHERE x = 1" in formatted


@pytest.mark.parametrize("sql, code", [
    ("SELECT 1;\nSELEC 2", "format_syntax"),
    ("SELECT * FROM posts WHERE id = :post_id", "format_syntax"),
    ("", "invalid"),
    ("   \n", "invalid"),
    ("-- nothing but a comment", "invalid"),
])
def test_unformattable_sql_is_a_clear_error(sql, code):
    with pytest.raises(QueryError) as caught:
        format_sql(sql)
    assert caught.value.code == code and caught.value.status == 400 and caught.value.message


def test_syntax_error_points_at_the_statement():
    with pytest.raises(QueryError) as caught:
        format_sql("SELECT 1;\nSELEC 2")
    assert caught.value.position == 11


def test_oversized_sql_is_refused(settings):
    settings.QUERY_MAX_SQL_BYTES = 100
    with pytest.raises(QueryError) as caught:
        format_sql("SELECT " + "1 + " * 50 + "1")
    assert caught.value.status in (400, 413)


def test_admin_endpoint_formats_and_reports_errors(client_for):
    client = client_for("analyst")
    url = "/admin/dbtools/query/format/"
    ok = client.post(url, json.dumps({"sql": "select 1 as one"}), content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {"sql": "SELECT 1 AS one\n"}
    for body in (b"not json", b"[1]", json.dumps({"sql": 5}).encode(), json.dumps({"sql": "selec 1"}).encode()):
        bad = client.post(url, body, content_type="application/json")
        assert bad.status_code == 400 and set(bad.json()["error"]) >= {"code", "message"}, body
    assert client.get(url).status_code == 405


def test_admin_endpoint_needs_run_query(client_for):
    response = client_for("viewer").post("/admin/dbtools/query/format/", json.dumps({"sql": "select 1"}),
                                         content_type="application/json")
    assert response.status_code == 403


def test_api_formats_and_errors_are_json(analyst):
    api = api_for(analyst)
    ok = api.post("/api/v1/query/format", {"sql": "select 1"}, format="json")
    assert ok.status_code == 200 and ok.json()["sql"] == "SELECT 1\n"
    bad = api.post("/api/v1/query/format", {"sql": "select from where"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "format_syntax"
    extra = api.post("/api/v1/query/format", {"sql": "select 1", "x": 1}, format="json")
    assert extra.status_code == 400 and "error" in extra.json()
    assert APIClient().post("/api/v1/query/format", {"sql": "select 1"}, format="json").status_code in (401, 403)
