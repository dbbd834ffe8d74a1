"""Issue 13: user text cannot leave the editor's read-only transaction, even when the app's parser is wrong.

Each attack runs twice: with the real classifier (pglast), and with a splitter that lies (it sees no transaction
control and cuts at every `;`, or sends the whole text as one statement). The second run proves the guard is the
server: one command per Parse, and the transaction status / command tag checked after every statement.
"""

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from dbtools.models import QueryHistory
from dbtools.query import runner
from dbtools.query.errors import QueryError
from dbtools.query.explain import explain_query
from dbtools.query.export import Export
from dbtools.query.runner import run_query
from dbtools.query.safety import Statement
from tests.query.conftest import canary_state

NESTED_COMMENT = ("/* /* */ */ COMMIT; SET default_transaction_read_only = off; "
                  "SELECT lo_from_bytea(0,'x'::bytea)")
BACKSLASH_QUOTE = ("SELECT '\\' AS a; COMMIT; BEGIN READ WRITE; SELECT lo_from_bytea(0,$$x$$::bytea); COMMIT; "
                   "SELECT 1 --'")
ROLE_SETTINGS = ("/* /* */ */ COMMIT; ALTER ROLE CURRENT_USER SET search_path = pg_temp, public; "
                 "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off")


def naive_split(text):
    """A parser that lies: cuts at every semicolon, whatever the quoting, and refuses nothing."""
    pieces, offset = [], 0
    for piece in text.split(";"):
        if piece.strip():
            pieces.append(Statement(text=piece, offset=offset))
        offset += len(piece) + 1
    return pieces


def whole_split(text):
    """A parser that lies the other way: the whole text is one statement."""
    return [Statement(text=text, offset=0)]


@pytest.fixture(params=["pglast", "naive", "whole"])
def splitter(request, monkeypatch):
    if request.param != "pglast":
        monkeypatch.setattr(runner, "split_statements", naive_split if request.param == "naive" else whole_split)
    return request.param


def api_client(user, scopes=("query",)):
    _key, plaintext = api_key_create(user=user, name="t", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.mark.parametrize("sql", [NESTED_COMMENT, BACKSLASH_QUOTE, ROLE_SETTINGS], ids=["nested", "backslash",
                                                                                       "role-settings"])
def test_run_path_cannot_escape(sql, splitter, analyst, blog_rows):
    before = canary_state()
    response = api_client(analyst).post("/api/v1/query", {"sql": sql}, format="json")
    assert response.status_code in (400, 403), response.content
    assert response.json()["error"]["code"] in ("forbidden_statement", "transaction_escape", "syntax_error",
                                                "read_only", "sql_error")
    assert canary_state() == before
    # the next run still starts clean: no role setting was persisted
    assert run_query(user=analyst, sql="SELECT current_setting('search_path')").rows == [("public",)]


@pytest.mark.parametrize("path", ["explain", "export"])
def test_explain_and_export_send_one_statement(path, splitter, analyst, blog_rows):
    before = canary_state()
    client = api_client(analyst)
    url = "/api/v1/query/explain" if path == "explain" else "/api/v1/query/export?format=csv"
    response = client.post(url, {"sql": BACKSLASH_QUOTE}, format="json")
    assert response.status_code == 400, response.content
    assert canary_state() == before


def test_explain_analyze_and_export_objects_refuse_smuggled_text(splitter, analyst, blog_rows):
    before = canary_state()
    for call in (lambda: explain_query(user=analyst, sql_text=BACKSLASH_QUOTE, analyze=True),
                 lambda: list(Export(user=analyst, sql_text=NESTED_COMMENT, fmt="json"))):
        with pytest.raises(QueryError):
            call()
    assert canary_state() == before


def test_commit_the_parser_missed_stops_the_run_and_is_logged(monkeypatch, analyst, blog_rows):
    monkeypatch.setattr(runner, "split_statements", naive_split)
    before = canary_state()
    with pytest.raises(QueryError) as caught:
        run_query(user=analyst, sql="SELECT 1; COMMIT AND CHAIN; SELECT lo_from_bytea(0, 'x'::bytea)")
    assert caught.value.code == "transaction_escape"
    assert canary_state() == before
    assert QueryHistory.objects.latest("pk").status == "error"


def test_prepare_transaction_the_parser_missed_leaves_nothing_prepared(monkeypatch, admin_user, blog_rows):
    monkeypatch.setattr(runner, "split_statements", naive_split)
    before = canary_state()
    with pytest.raises(QueryError):
        run_query(user=admin_user, sql="INSERT INTO users (username, email) VALUES ('p', 'p@x'); "
                                       "PREPARE TRANSACTION 'pgdeck_evil'", mode="write")
    assert canary_state() == before


def test_write_role_settings_block_the_next_run_until_setup_resets_them(admin_user, blog_rows):
    from django.core.management import CommandError, call_command

    run_query(user=admin_user, mode="write", sql="ALTER ROLE CURRENT_USER SET search_path = pg_temp, public")
    with pytest.raises(QueryError) as caught:
        run_query(user=admin_user, mode="write", sql="SELECT 1")
    assert caught.value.code == "query_role_unsafe" and "role settings" in caught.value.message
    with pytest.raises(CommandError, match="changed outside pgdeck"):
        call_command("setup_query_role", "--check")
    call_command("setup_query_role")
    assert run_query(user=admin_user, mode="write", sql="SELECT current_setting('search_path')").rows == [
        ("public",)]


def test_deadline_holds_when_sql_turns_off_statement_timeout(settings, analyst, blog_rows):
    """Old behaviour: the single cancel landed between two tiny statements, was lost, and the sleep ran on."""
    settings.QUERY_EDITOR_TIMEOUT = 1
    script = "SET statement_timeout = 0;\n" + "SELECT pg_sleep(.0005);\n" * 3000 + "SELECT pg_sleep(20)"
    with pytest.raises(QueryError) as caught:
        run_query(user=analyst, sql=script)
    assert caught.value.code == "statement_timeout"
    assert QueryHistory.objects.latest("pk").status == "timeout"


def test_deadline_terminates_a_backend_that_ignores_cancel(settings, analyst, blog_rows, monkeypatch):
    """If every cancel is lost, the watchdog ends the backend from the app's own connection."""
    from psycopg import Connection

    settings.QUERY_EDITOR_TIMEOUT = 1
    monkeypatch.setattr(Connection, "cancel_safe", lambda self, **kw: None)  # every cancel lost
    with pytest.raises(QueryError) as caught:
        run_query(user=analyst, sql="SET statement_timeout = 0; SELECT pg_sleep(30)")
    assert caught.value.code == "statement_timeout"


def test_a_huge_value_is_refused_before_python_builds_it(analyst, blog_rows, settings):
    from dbtools.query import value_sizes

    assert value_sizes.in_effect(), "PQgetlength of psycopg's own libpq is not found: the size guard would copy"
    settings.QUERY_EDITOR_MAX_VALUE_BYTES = 1_000_000
    with pytest.raises(QueryError) as caught:
        run_query(user=analyst, sql="SELECT 1 AS small, repeat('x', 5000000) AS big")
    assert caught.value.code == "value_too_large" and "'big'" in caught.value.message
    assert run_query(user=analyst, sql="SELECT length(repeat('x', 5000000))").rows == [(5000000,)]


def _in_thread(target):
    import threading

    from django.db import connections

    outcome = {}

    def body():
        try:
            outcome["result"] = target()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, outcome


def _wait_for_run(user, count=1):
    import time

    for _ in range(100):
        if QueryHistory.objects.filter(user=user, status="running", backend_pid__isnull=False).count() >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the run did not start")


def test_users_cannot_see_or_cancel_each_others_runs(settings, make_user, transactional_db, blog_rows):
    if not settings.QUERY_PER_USER_ROLES:
        pytest.skip("per-user roles are off behind PgBouncer (docs/security.md)")
    alice, bob = make_user("analyst", username="alice"), make_user("analyst", username="bob")
    thread, outcome = _in_thread(lambda: run_query(user=alice, sql="SELECT pg_sleep(2), 'secret-marker-77' AS s"))
    _wait_for_run(alice)
    seen = run_query(user=bob, sql="SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%secret-marker-' || '77%'")
    assert seen.rows == [(0,)]
    with pytest.raises(QueryError) as caught:
        run_query(user=bob, sql="SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                                f"WHERE usename = 'pgdeck_query_u{alice.pk}'")
    assert caught.value.code == "permission_denied"
    thread.join(10)
    assert outcome["result"].rows[0][1] == "secret-marker-77"


def test_concurrent_runs_per_user_are_limited_with_a_429(settings, make_user, transactional_db, blog_rows):
    if not settings.QUERY_PER_USER_ROLES:
        pytest.skip("per-user roles are off behind PgBouncer (docs/security.md)")
    carol = make_user("analyst", username="carol")
    runs = [_in_thread(lambda: run_query(user=carol, sql="SELECT pg_sleep(2)"))
            for _ in range(settings.QUERY_MAX_RUNS_PER_USER)]
    _wait_for_run(carol, settings.QUERY_MAX_RUNS_PER_USER)
    response = api_client(carol).post("/api/v1/query", {"sql": "SELECT 1"}, format="json")
    assert response.status_code == 429, response.content
    assert response.json()["error"]["code"] == "too_many_runs"
    for thread, outcome in runs:
        thread.join(10)
        assert "result" in outcome, outcome
    assert api_client(carol).post("/api/v1/query", {"sql": "SELECT 1"}, format="json").status_code == 200


@pytest.mark.parametrize("table", ["django_migrations", "alembic_version"])
def test_write_role_cannot_touch_migration_state(table, admin_user, blog_rows):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [table])
        if cursor.fetchone()[0] is None:
            cursor.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
    from django.core.management import call_command

    call_command("setup_query_role")
    for sql in (f"DELETE FROM {table}", f"SELECT * FROM {table}"):
        with pytest.raises(QueryError) as caught:
            run_query(user=admin_user, mode="write", sql=sql)
        assert caught.value.code == "permission_denied"
