"""Suggested indexes on a planted workload whose right answer is known, and nothing once the indexes exist."""

import pytest
from django.db import connection

from dbtools.monitoring.index_advice import advise, parse
from dbtools.monitoring.index_advice.views import top_statements

ADMIN = "/admin/dbtools/monitoring/index-advice/"

PLANT = """
CREATE TABLE adv_orders (id int PRIMARY KEY, customer_id int, status text, created_at timestamptz, coupon text);
INSERT INTO adv_orders SELECT g, g % 3000, (ARRAY['new', 'paid', 'sent'])[g % 3 + 1],
    timestamptz '2026-01-01' + g * interval '1 minute', CASE WHEN g % 20 = 0 THEN 'C' || g END
    FROM generate_series(1, 30000) g;
CREATE TABLE adv_customers (id int PRIMARY KEY, email text);
INSERT INTO adv_customers SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 20000) g;
CREATE TABLE adv_events (id int PRIMARY KEY, account_id int, created_at timestamptz);
INSERT INTO adv_events SELECT g, g % 1000, timestamptz '2026-01-01' + (g * 7919 % 20000) * interval '1 second'
    FROM generate_series(1, 20000) g;
CREATE TABLE adv_indexed (id int PRIMARY KEY, customer_id int);
CREATE INDEX adv_indexed_customer ON adv_indexed (customer_id);
INSERT INTO adv_indexed SELECT g, g % 3000 FROM generate_series(1, 20000) g;
CREATE TABLE adv_small (id int PRIMARY KEY, x int);
INSERT INTO adv_small SELECT g, g FROM generate_series(1, 100) g;
ANALYZE adv_orders, adv_customers, adv_events, adv_indexed, adv_small;
"""

WORKLOAD = [
    ("SELECT * FROM adv_orders WHERE customer_id = %s", 42),
    ("SELECT * FROM adv_orders WHERE status = %s", "paid"),  # 3 values: an index would not help
    ("SELECT * FROM adv_indexed WHERE customer_id = %s", 42),  # already indexed
    ("SELECT o.id FROM adv_orders o JOIN adv_customers c ON c.id = o.customer_id WHERE c.email = %s",
     "user7@example.com"),
    ("SELECT * FROM adv_events WHERE account_id = %s ORDER BY created_at DESC LIMIT 10", 7),
    ("SELECT * FROM adv_small WHERE x = %s", 5),  # 100 rows: a sequential scan is fine
    ("SELECT * FROM adv_orders WHERE coupon = %s", "C400"),
    ("SELECT count(*) FROM adv_orders WHERE created_at >= %s::timestamptz AND created_at < %s::timestamptz",
     ("2026-01-02", "2026-01-03")),
]

EXPECTED = {
    ("public.adv_orders", ("customer_id",), None),
    ("public.adv_customers", ("email",), None),
    ("public.adv_events", ("account_id", "created_at"), None),
    ("public.adv_orders", ("coupon",), "coupon"),
    ("public.adv_orders", ("created_at",), None),
}


def run(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def planted(db):
    from dbtools.monitoring.history import services

    run("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    if not services.extension_state()[1]:  # e.g. the PostgreSQL 15 service, which does not preload it
        pytest.skip("this server does not preload pg_stat_statements")
    run(PLANT)
    run("SELECT pg_stat_statements_reset()")  # ours must be among the top statements the advisor reads
    for sql, value in WORKLOAD:
        for _ in range(3):
            run(sql, list(value) if isinstance(value, tuple) else [value])


def planted_suggestions():
    statements = top_statements()
    if statements is None or not statements:
        pytest.skip("pg_stat_statements is not loaded on this server")
    return [s for s in advise.suggest(statements) if s["table"].startswith("public.adv_")]


def test_the_planted_workload_gets_exactly_the_expected_indexes(planted):
    suggestions = planted_suggestions()
    assert {(s["table"], tuple(s["columns"]), s["where"]) for s in suggestions} == EXPECTED
    by_columns = {tuple(s["columns"]): s for s in suggestions}
    helped = [statement["query"] for statement in by_columns[("customer_id",)]["statements"]]
    assert len(helped) == 2 and any("JOIN" in text for text in helped)  # the filter and the join key
    assert by_columns[("coupon",)]["sql"] == ('CREATE INDEX CONCURRENTLY ON "public"."adv_orders" ("coupon")'
                                              ' WHERE "coupon" IS NOT NULL')
    assert "n_distinct" in by_columns[("customer_id",)]["reason"]
    assert "correlation" in by_columns[("created_at",)]["reason"]


def test_nothing_is_suggested_once_the_indexes_exist(planted):
    for suggestion in planted_suggestions():
        run(suggestion["sql"].replace(" CONCURRENTLY", ""))  # CONCURRENTLY cannot run in the test's transaction
    run("ANALYZE adv_orders, adv_customers, adv_events")
    assert planted_suggestions() == []


def test_the_page_lists_suggestions_with_the_statements_they_help(planted, client_for):
    response = client_for("viewer").get(ADMIN)
    assert response.status_code == 200 and b"<script>" not in response.content
    html = response.content.decode()
    assert "CREATE INDEX CONCURRENTLY ON &quot;public&quot;.&quot;adv_events&quot;" in html
    assert "adv_small" not in html.split('id="index-advice"')[1].split("Would help")[0]


def test_text_the_parser_refuses_is_skipped():
    assert parse.statement_usages("SELECT * FROM t WHERE a = (") == []
    assert parse.statement_usages("<insufficient privilege>") == []
