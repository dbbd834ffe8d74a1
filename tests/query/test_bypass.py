"""The bypass set: none of these may write, read server files, touch another backend or leave state behind.

PostgreSQL enforces it (a least-privilege login role inside a READ ONLY transaction); each case checks the
outcome after the run, not the message."""

import uuid
from pathlib import Path

import pytest
from django.db import connection

from dbtools.query.errors import QueryError
from dbtools.query.runner import run_query
from tests.query.conftest import login_role_for, open_superuser_connection

MARKER = Path(f"/tmp/pgdeck-bypass-{uuid.uuid4().hex}")
DATA_CHECKSUM = """
SELECT (SELECT count(*) FROM users), (SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u),
       (SELECT count(*) FROM posts), (SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM posts p),
       (SELECT last_value FROM posts_id_seq), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')
"""

# Advisory locks in this database held by a query-editor backend (other tests/helpers may use their own).
ADVISORY_LOCKS = """
SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND a.usename LIKE 'pgdeck_query%'
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""

# (case id, SQL; {victim} is the pid of another backend, {marker} a file path that must not appear)
BYPASSES = [
    ("insert", "INSERT INTO users (username, email) VALUES ('evil', 'evil@example.com')"),
    ("update", "UPDATE users SET username = 'evil'"),
    ("delete", "DELETE FROM posts"),
    ("truncate", "TRUNCATE posts CASCADE"),
    ("ddl-create", "CREATE TABLE evil (id int)"),
    ("ddl-drop", "DROP TABLE posts CASCADE"),
    ("ddl-alter", "ALTER TABLE posts ADD COLUMN evil int"),
    ("temp-table", "CREATE TEMP TABLE evil AS SELECT 1"),
    ("do-block", "DO $$ BEGIN DELETE FROM posts; END $$"),
    ("do-commit", "DO $$ BEGIN COMMIT; DELETE FROM posts; END $$"),
    ("cte-delete", "WITH gone AS (DELETE FROM posts RETURNING *) SELECT count(*) FROM gone"),
    ("set-default-rw", "SET default_transaction_read_only = off; DELETE FROM posts"),
    ("session-characteristics", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; DELETE FROM posts"),
    ("set-transaction-rw", "SET TRANSACTION READ WRITE; DELETE FROM posts"),
    ("set-config", "SELECT set_config('transaction_read_only', 'off', false); DELETE FROM posts"),
    ("commit-then-delete", "COMMIT; DELETE FROM posts"),
    ("rollback-then-delete", "ROLLBACK; DELETE FROM posts"),
    ("begin", "BEGIN; DELETE FROM posts; COMMIT"),
    ("end", "END; DELETE FROM posts"),
    ("savepoint", "SAVEPOINT a; DELETE FROM posts; RELEASE a"),
    ("prepare-transaction", "PREPARE TRANSACTION 'evil'"),
    ("commented-commit", "/* hi */ -- there\n  commit; DELETE FROM posts"),
    ("copy-to-program", "COPY (SELECT 1) TO PROGRAM 'touch {marker}'"),
    ("copy-from-program", "COPY posts FROM PROGRAM 'touch {marker}'"),
    ("copy-to-file", "COPY (SELECT 1) TO '{marker}'"),
    ("copy-from-file", "COPY posts FROM '/etc/passwd'"),
    ("call", "CALL pgdeck_test_wipe()"),
    ("lo-import", "SELECT lo_import('/etc/passwd')"),
    ("lo-export", "SELECT lo_export(lo_from_bytea(0, 'x'), '{marker}')"),
    ("terminate-other", "SELECT pg_terminate_backend({victim})"),
    ("cancel-other", "SELECT pg_cancel_backend({victim})"),
    ("nextval", "SELECT nextval('posts_id_seq')"),
    ("setval", "SELECT setval('posts_id_seq', 999999)"),
    ("advisory-lock", "SELECT pg_advisory_lock(4242)"),
    ("multi-statement", "SELECT 1; DELETE FROM posts; SELECT 2"),
    ("semicolon-in-comment", "SELECT 1 /* ; COMMIT; */; DELETE FROM posts"),
    ("semicolon-in-string", "SELECT ';COMMIT;'; DELETE FROM posts"),
    ("dollar-quote", "SELECT $x$ ; COMMIT; $x$; DELETE FROM posts"),
    ("greek-question-mark", "SELECT 1\u037e DELETE FROM posts"),
    ("fullwidth-keyword", "\uff24\uff25\uff2c\uff25\uff34\uff25 FROM posts"),
    ("zero-width-commit", "\u200bCOMMIT; DELETE FROM posts"),
    ("bom-delete", "\ufeffDELETE FROM posts"),
    ("prepare-execute", "PREPARE evil AS DELETE FROM posts; EXECUTE evil"),
    ("prepare-left-behind", "PREPARE leftover AS SELECT 1"),
    ("reset-role", "RESET ROLE; DELETE FROM posts"),
    ("set-role-postgres", "SET ROLE postgres; DELETE FROM posts"),
    ("session-authorization", "SET SESSION AUTHORIZATION postgres; DELETE FROM posts"),
    ("read-file", "SELECT pg_read_file('/etc/passwd')"),
    ("read-binary-file", "SELECT pg_read_binary_file('/etc/passwd')"),
    ("ls-dir", "SELECT pg_ls_dir('.')"),
    ("stat-file", "SELECT pg_stat_file('/etc/passwd')"),
    ("sessions-table", "SELECT session_key FROM django_session"),
    ("password-hashes", "SELECT password FROM accounts_user"),
    ("api-keys", "SELECT * FROM api_keys"),
    ("grant-self", "GRANT pg_execute_server_program TO CURRENT_USER"),
    ("alter-role", "ALTER ROLE CURRENT_USER SUPERUSER"),
    ("lock-table", "LOCK TABLE posts IN ACCESS EXCLUSIVE MODE"),
    ("vacuum", "VACUUM posts"),
    ("set-local-timeout", "SET statement_timeout = 0; SET LOCAL lock_timeout = 0"),
]


def checksum():
    with connection.cursor() as cursor:
        cursor.execute(DATA_CHECKSUM)
        return cursor.fetchone()


def advisory_locks():
    with connection.cursor() as cursor:
        cursor.execute(ADVISORY_LOCKS)
        return cursor.fetchone()[0]


@pytest.fixture
def wipe_procedure(blog_rows):
    """A SECURITY DEFINER procedure owned by the superuser: even that cannot write in a READ ONLY transaction."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE OR REPLACE PROCEDURE pgdeck_test_wipe() LANGUAGE sql SECURITY DEFINER "
                       "AS 'DELETE FROM posts'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP PROCEDURE IF EXISTS pgdeck_test_wipe()")


@pytest.fixture
def victim():
    """Another session, held in an open transaction so its server backend is pinned even behind PgBouncer
    (whose client-side backend_pid is not a server pid)."""
    conn = open_superuser_connection()
    conn.execute("BEGIN")
    conn.server_pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    yield conn
    conn.close()


@pytest.mark.parametrize("case, sql", BYPASSES, ids=[case for case, _sql in BYPASSES])
def test_bypass_attempt_changes_nothing(case, sql, analyst, blog_rows, wipe_procedure, victim):
    before = checksum()
    text = sql.format(victim=victim.server_pid, marker=MARKER)
    try:
        result = run_query(user=analyst, sql=text)
    except QueryError as error:
        outcome = error.code
    else:
        outcome = "ran"
        assert all("root:" not in str(value) for row in result.rows for value in row)

    assert checksum() == before, f"{case}: data changed ({outcome})"
    assert not MARKER.exists(), f"{case}: a server-side file was created"
    assert victim.execute("SELECT 1").fetchone() == (1,), f"{case}: another backend was touched"
    assert advisory_locks() == 0, f"{case}: an advisory lock was left behind"
    clean = run_query(user=analyst, sql="SELECT current_user, session_user, "
                      "current_setting('transaction_read_only'), current_setting('statement_timeout'), "
                      "(SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_locks "
                      "WHERE locktype = 'advisory' AND pid = pg_backend_pid())")
    own_role = login_role_for(analyst)  # each editor user logs in as a role of their own
    assert clean.rows == [(own_role, own_role, "on", "30s", 0, 0)], f"{case}: session not clean"
    if case in {"delete", "update", "insert", "cte-delete", "set-default-rw", "prepare-execute", "reset-role"}:
        assert outcome == "read_only"
    if case in {"commit-then-delete", "begin", "end", "savepoint", "prepare-transaction", "commented-commit"}:
        assert outcome == "forbidden_statement"
    if case in {"read-file", "copy-to-program", "sessions-table", "password-hashes", "terminate-other"}:
        assert outcome == "permission_denied"
