import json
import time

from django.db import connection

from dbtools.models import QueryHistory
from dbtools.query.export import Export

BIG = "SELECT g, md5(g::text) FROM generate_series(1, 200000) g"


def backend_gone(pid):
    """The server ends a backend a moment after its client closed the socket: wait for it (up to ~5 s)."""
    for _attempt in range(100):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                return True
        time.sleep(0.05)
    return False


def test_ndjson_has_one_object_per_line(analyst, blog_rows):
    export = Export(user=analyst, sql_text="SELECT id, E'line\\nbreak' AS t FROM posts ORDER BY id", fmt="ndjson")
    lines = b"".join(export).decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"id": p.id, "t": "line\nbreak"} for p in blog_rows]


def test_parameters_are_quoted_by_psycopg(analyst, blog_rows):
    export = Export(user=analyst, sql_text="SELECT title FROM posts WHERE title = :t", fmt="csv",
                    params={"t": "x' OR '1'='1"})
    assert b"".join(export).decode().splitlines() == ["title"]


def test_error_mid_stream_ends_the_file_and_is_logged(analyst, transactional_db):
    export = Export(user=analyst, sql_text="SELECT 1 / (g - 150000) FROM generate_series(1, 200000) g", fmt="csv")
    body = b"".join(export).decode()
    assert body.rstrip().endswith("-- export failed: division by zero")
    assert QueryHistory.objects.get(mode="export").status == "error"


def test_client_going_away_stops_the_server_side(analyst, transactional_db):
    export = Export(user=analyst, sql_text=BIG, fmt="csv")
    pid = export.conn.info.backend_pid
    stream = iter(export)
    next(stream)
    stream.close()  # what Django does when the client disconnects
    assert backend_gone(pid)
    entry = QueryHistory.objects.get(mode="export")
    assert entry.status == "error" and "interrupted" in entry.error


def test_export_is_not_capped_by_the_display_limit(analyst, settings, transactional_db):
    settings.QUERY_EDITOR_MAX_ROWS = 10
    export = Export(user=analyst, sql_text=BIG, fmt="csv")
    assert sum(chunk.count(b"\n") for chunk in export) == 200001
    assert export.rows == 200000
