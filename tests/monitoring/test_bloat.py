"""Index bloat next to table bloat: an index that lost 90 % of its rows is listed, a fresh one is not."""

from django.db import connection

URL = "/admin/dbtools/monitoring/bloat/"


def run(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)


def test_a_shrunken_index_shows_bloat_and_a_fresh_one_does_not(client_for):
    run("CREATE TABLE bloat_old (id int PRIMARY KEY, code int)")
    run("CREATE INDEX bloat_old_code ON bloat_old (code)")
    run("INSERT INTO bloat_old SELECT g, g FROM generate_series(1, 40000) g")
    run("DELETE FROM bloat_old WHERE id % 10 <> 0")  # pages stay allocated: the index keeps its size
    run("CREATE TABLE bloat_new (id int PRIMARY KEY, code int)")
    run("INSERT INTO bloat_new SELECT g, g FROM generate_series(1, 4000) g")
    run("CREATE INDEX bloat_new_code ON bloat_new (code)")
    run("ANALYZE bloat_old, bloat_new")
    response = client_for("viewer").get(URL)
    assert response.status_code == 200 and not response.context.get("query_error")
    indexes = {row["name"]: row for row in response.context["indexes"]}
    assert indexes["bloat_old_code"]["percent"] > 70 and indexes["bloat_old_pkey"]["percent"] > 70
    assert "bloat_new_code" not in indexes and "bloat_new_pkey" not in indexes
    tables = {row["name"]: row for row in response.context["tables"]}
    assert tables["bloat_old"]["percent"] > 70 and "bloat_new" not in tables
    assert b'id="index-bloat"' in response.content and b'id="table-bloat"' in response.content
