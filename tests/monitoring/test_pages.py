"""The monitoring screens through the admin: permissions, tables paging/sorting, indexes, checks, query stats."""

import pytest
from django.db import connection

from tests.factories import UserFactory

ADMIN = "/admin/dbtools/monitoring"
SCREENS = ["", "activity/", "locks/", "tables/", "indexes/", "checks/", "query-stats/"]


def run(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("screen", SCREENS)
def test_every_screen_renders_for_a_viewer_in_the_admin_look(client_for, screen):
    response = client_for("viewer").get(f"{ADMIN}/{screen}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="breadcrumbs"' in html and 'class="monitoring-nav"' in html
    assert "query_error" not in response.context or not response.context["query_error"]
    assert "<script>" not in html  # no inline scripts (CSP)


@pytest.mark.parametrize("screen", [*SCREENS, "chart-data/"])
def test_screens_need_view_monitoring(client, db, screen):
    user = UserFactory(username="no-role", role="nobody")
    client.force_login(user)
    assert client.get(f"{ADMIN}/{screen}").status_code == 403


def test_the_admin_index_links_to_monitoring(client_for):
    assert f'href="{ADMIN}/"'.encode() in client_for("viewer").get("/admin/").content


def test_overview_shows_server_connections_pool_and_checks(client_for):
    response = client_for("viewer").get(f"{ADMIN}/")
    context = response.context
    assert context["server"]["server_version_num"] >= 130000
    assert context["connections"]["total"] >= 1
    assert context["pool"]["max"] >= context["pool"]["size"] >= 1
    assert {check["key"] for check in context["checks"]} == {
        "sequences", "wraparound", "idle_in_transaction", "vacuum", "replication", "settings"}
    assert b'id="chart-xacts"' in response.content and b"chart.umd.min.js" in response.content


def test_chart_data_returns_cumulative_counters(client_for):
    data = client_for("viewer").get(f"{ADMIN}/chart-data/").json()
    assert data["counters"]["xact_commit"] > 0 and data["counters"]["ts"] > 0
    assert {"tup_inserted", "tup_updated", "tup_deleted", "tup_fetched", "tup_returned"} <= set(data["counters"])
    assert data["connections"]["total"] >= 1 and "available" in data["pool"]


@pytest.fixture
def sixty_tables(settings):
    settings.MONITORING_TABLES_PER_PAGE = 20
    for number in range(1, 61):
        run(f"CREATE TABLE mon_t_{number:02d} (id int PRIMARY KEY, payload text)")
    run("INSERT INTO mon_t_07 SELECT g, repeat('x', 50) FROM generate_series(1, 5000) g")
    run("ANALYZE mon_t_07")


def test_tables_page_paginates(client_for, sixty_tables):
    client = client_for("viewer")
    first = client.get(f"{ADMIN}/tables/", {"q": "mon_t_", "sort": "name", "dir": "asc"}).context
    assert (first["count"], first["pages"], first["page"]) == (60, 3, 1)
    assert [row["name"] for row in first["rows"]] == [f"mon_t_{n:02d}" for n in range(1, 21)]
    last = client.get(f"{ADMIN}/tables/", {"q": "mon_t_", "sort": "name", "dir": "asc", "page": 3}).context
    assert [row["name"] for row in last["rows"]] == [f"mon_t_{n:02d}" for n in range(41, 61)]
    beyond = client.get(f"{ADMIN}/tables/", {"q": "mon_t_", "sort": "name", "page": 99}).context
    assert beyond["page"] == 3


def test_tables_page_sorts_server_side(client_for, sixty_tables):
    client = client_for("viewer")
    descending = client.get(f"{ADMIN}/tables/", {"q": "mon_t_", "sort": "name", "dir": "desc"}).context
    assert descending["rows"][0]["name"] == "mon_t_60"
    by_rows = client.get(f"{ADMIN}/tables/", {"q": "mon_t_", "sort": "rows"}).context
    top = by_rows["rows"][0]
    assert top["name"] == "mon_t_07" and top["estimated_rows"] == 5000
    assert top["total_bytes"] >= top["table_bytes"] > 0 and top["index_bytes"] > 0
    assert top["bloat_bytes"] is not None and top["bloat_bytes"] >= 0
    by_size = client.get(f"{ADMIN}/tables/", {"q": "mon_t_", "sort": "size"}).context
    assert by_size["rows"][0]["name"] == "mon_t_07"
    html = client.get(f"{ADMIN}/tables/", {"q": "mon_t_", "sort": "rows"}).content.decode()
    assert 'class="sortable sorted descending"' in html


def test_tables_page_ignores_an_unknown_sort(client_for, sixty_tables):
    response = client_for("viewer").get(f"{ADMIN}/tables/", {"q": "mon_t_", "sort": "relname; DROP TABLE x"})
    assert response.status_code == 200 and response.context["sort"] == "size"


def test_indexes_page_finds_duplicate_unused_and_invalid(client_for):
    run("CREATE TABLE mon_idx (a int, b int, c int)")
    run("CREATE INDEX mon_idx_a ON mon_idx (a)")
    run("CREATE INDEX mon_idx_a_b ON mon_idx (a, b)")
    run("CREATE INDEX mon_idx_c ON mon_idx (c)")
    # What a failed CREATE INDEX CONCURRENTLY leaves behind (rolled back with the test's transaction).
    run("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'mon_idx_c'::regclass")
    context = client_for("viewer").get(f"{ADMIN}/indexes/").context
    duplicates = {row["index"]: row["covered_by"] for row in context["duplicates"]}
    assert duplicates.get("mon_idx_a") == "mon_idx_a_b" and "mon_idx_a_b" not in duplicates
    assert {"mon_idx_a", "mon_idx_a_b"} <= {row["index"] for row in context["unused"]}
    assert [row["index"] for row in context["invalid"]] == ["mon_idx_c"]


def test_a_sequence_near_overflow_turns_the_check_red(client_for):
    run("CREATE TABLE mon_seq (id serial PRIMARY KEY)")
    run("SELECT setval('mon_seq_id_seq', 2000000000)")
    context = client_for("viewer").get(f"{ADMIN}/checks/").context
    check = next(c for c in context["checks"] if c["key"] == "sequences")
    assert check["status"] == "red"
    row = next(r for r in check["rows"] if r["sequence"] == "mon_seq_id_seq")
    assert row["column_type"] == "integer" and row["percent_used"] > 90


def test_an_idle_transaction_shows_in_its_check(client_for, sessions, settings):
    settings.MONITORING_IDLE_IN_TRANSACTION_SECONDS = 0
    idle = sessions(autocommit=False)
    idle.execute("SELECT 1")
    context = client_for("viewer").get(f"{ADMIN}/checks/").context
    check = next(c for c in context["checks"] if c["key"] == "idle_in_transaction")
    assert check["status"] in ("amber", "red") and idle.pid in [row["pid"] for row in check["rows"]]


def test_query_stats_without_the_extension_shows_how_to_enable_it(client_for):
    run("DROP EXTENSION IF EXISTS pg_stat_statements")
    response = client_for("viewer").get(f"{ADMIN}/query-stats/")
    assert response.status_code == 200 and response.context["problem"] == "not_installed"
    assert b"CREATE EXTENSION IF NOT EXISTS pg_stat_statements" in response.content
    assert b'id="query-stats-note"' in response.content


def test_query_stats_with_the_extension(client_for):
    run("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    client = client_for("viewer")
    client.get(f"{ADMIN}/tables/")
    response = client.get(f"{ADMIN}/query-stats/", {"sort": "calls"})
    if response.context["status"]["preloaded"]:  # the embedded server preloads it
        assert response.context["problem"] is None and response.context["rows"]
        assert b'id="query-stats"' in response.content
    else:  # e.g. the PostgreSQL 15 service: installed but not loaded → the restart step, not an error
        assert response.context["problem"] == "not_preloaded"
        assert b"shared_preload_libraries" in response.content and b"Restart PostgreSQL" in response.content


def test_monitoring_timeouts_do_not_leak_into_the_surrounding_transaction(client_for, settings):
    settings.MONITORING_STATEMENT_TIMEOUT_MS = 4321
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
        before = cursor.fetchone()
        client_for("viewer").get(f"{ADMIN}/checks/")
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
        assert cursor.fetchone() == before
    assert before[0] != "4321ms"


def test_the_shared_helper_applies_the_statement_timeout(db, settings):
    """Every monitoring query goes through fetch_all; a slow one is cut off and becomes a one-line error."""
    settings.MONITORING_STATEMENT_TIMEOUT_MS = 100
    from dbtools.monitoring.queries.base import MonitoringQueryError, fetch_all

    with pytest.raises(MonitoringQueryError, match="statement timeout"):
        fetch_all("SELECT pg_sleep(1)")


def test_activity_ignores_malformed_numbers(client_for):
    response = client_for("viewer").get(f"{ADMIN}/activity/", {"min_seconds": "abc", "state": "<script>"})
    assert response.status_code == 200 and response.context["backends"] == []
    assert b"<script>" not in response.content


@pytest.mark.parametrize("screen, param, key", [("tables/", "q", "q"), ("activity/", "search", "filters")])
def test_a_nul_character_in_a_filter_box_is_dropped(client_for, screen, param, key):
    response = client_for("viewer").get(f"{ADMIN}/{screen}", {param: "pg_\x00class"})
    assert response.status_code == 200
    assert "query_error" not in response.context
    value = response.context[key]
    assert (value[param] if isinstance(value, dict) else value) == "pg_class"
