"""Cost of the trust boundary (issue 13): a 1-statement run and a 1,000-statement script, before vs after.

"Before" is the previous pipeline rebuilt from the same primitives in this run: sqlparse split, the shared query
role, one streamed statement after another with no per-statement checks. "After" is `run_query` as it is now:
pglast lexer split and classification, the user's own role, the pre-run drift check, the boundary check after every
statement and the deadline check between statements. Both open a fresh connection per run, both log a history
row. Goal: after / before <= 1.2.
"""

import time
from io import StringIO

import psycopg
import sqlparse
from django.core.management import call_command

from bench.common import bench_database, percentile, timed
from bench.report import write_section
from dbtools.query import services
from dbtools.query.connection import conninfo
from dbtools.query.roles import DANGEROUS_ROLES
from dbtools.query.runner import StreamingCursor, run_query

ONE = "SELECT id, title FROM posts ORDER BY id LIMIT 50"
SCRIPT = ";\n".join(f"SELECT {i} AS n, 'a;b' AS s" for i in range(1000))
OLD_SAFETY_CHECK = """SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolbypassrls FROM pg_roles r
 WHERE (r.rolsuper OR r.rolcreaterole OR r.rolbypassrls OR r.rolname = ANY(%s))
   AND (pg_has_role(session_user, r.oid, 'MEMBER') OR pg_has_role(current_user, r.oid, 'MEMBER'))"""
REPEAT = {"1 statement": 60, "1,000 statements": 8}


def before(user, sql):
    """The old pipeline: history row, sqlparse split, shared role, BEGIN READ ONLY, statements streamed."""
    entry = services.history_start(user=user, sql=sql, mode="read")
    started = time.monotonic()
    with psycopg.connect(autocommit=True, **conninfo("read")) as conn:
        conn.execute(OLD_SAFETY_CHECK, [DANGEROUS_ROLES]).fetchall()
        conn.execute("BEGIN READ ONLY")
        conn.execute("SELECT set_config('statement_timeout', '30s', true), set_config('lock_timeout', '5s', true), "
                     "set_config('idle_in_transaction_session_timeout', '60s', true)")
        services.history_set_pid(entry, conn.execute("SELECT pg_backend_pid()").fetchone()[0])
        for piece in sqlparse.split(sql):
            sqlparse.parse(piece)
            list(StreamingCursor(conn).stream(piece))
        conn.execute("ROLLBACK")
    services.history_finish(entry, status="success", started=started)


def after(user, sql):
    run_query(user=user, sql=sql)


def measure(user):
    rows = []
    for label, sql in (("1 statement", ONE), ("1,000 statements", SCRIPT)):
        old, new = [], []
        for _ in range(REPEAT[label]):  # interleaved, so background load hits both alike
            old += timed(lambda sql=sql: before(user, sql), 1)
            new += timed(lambda sql=sql: after(user, sql), 1)
        old.sort()
        new.sort()
        rows.append((label, percentile(old, 50), percentile(new, 50), percentile(old, 95), percentile(new, 95)))
    return rows


def report(rows):
    lines = ["| run | before p50 | after p50 | after / before (p50) | before p95 | after p95 |",
             "| --- | --- | --- | --- | --- | --- |"]
    for label, old50, new50, old95, new95 in rows:
        lines.append(f"| {label} | {old50:.1f} ms | {new50:.1f} ms | **{new50 / old50:.2f}×** | {old95:.1f} ms | "
                     f"{new95:.1f} ms |")
    return "\n".join(lines) + "\n\nGoal: after / before <= 1.2×. Both sides open a fresh connection per run.\n"


def run():
    from accounts.models import User
    from tests.factories import PostFactory

    with bench_database("bench_editor_boundary"):
        call_command("setup_query_role", stdout=StringIO())
        PostFactory.create_batch(60)
        user = User.objects.create(username="bench-editor", role="analyst")
        rows = measure(user)
    body = __doc__.split("\n\n", 1)[1] + "\n" + report(rows)
    write_section("editor_boundary", "Query editor trust boundary: before vs after", body)
    print(body)
