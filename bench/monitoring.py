"""Monitoring dashboard and tables page with 10 vs 5,000 user tables (goal: ≤ 3× and p95 ≤ 300 ms)."""

import os
import statistics
import time

from django.db import connection
from django.test import Client

from bench.common import bench_database
from bench.report import write_section

SMALL, LARGE = 10, 5_000
BATCH = 250  # tables per transaction: each new table takes locks until commit (max_locks_per_transaction)
REPEAT = 40
WARMUP = 3
PAGES = (
    ("overview", "/admin/dbtools/monitoring/"),
    ("tables, by size", "/admin/dbtools/monitoring/tables/"),
    ("tables, by dead tuples, page 3", "/admin/dbtools/monitoring/tables/?sort=dead&page=3"),
    ("indexes", "/admin/dbtools/monitoring/indexes/"),
    ("health checks", "/admin/dbtools/monitoring/checks/"),
    ("chart data (JSON)", "/admin/dbtools/monitoring/chart-data/"),
)


def create_tables(first, last):
    for start in range(first, last + 1, BATCH):
        end = min(start + BATCH - 1, last)
        with connection.cursor() as cursor:
            cursor.execute(
                "DO $$ BEGIN FOR n IN %s..%s LOOP EXECUTE format("
                "'CREATE TABLE bench_t_%%s (id int PRIMARY KEY, payload text, created timestamptz)', n);"
                " END LOOP; END $$",
                [start, end],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client, url):
    for _ in range(WARMUP):  # caches, the session, the catalog cache of a fresh backend
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert not (response.context or {}).get("query_error"), response.context["query_error"]
    statements = []
    with connection.execute_wrapper(lambda execute, sql, *args: statements.append(sql) or execute(sql, *args)):
        client.get(url)
    durations = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    p95 = durations[min(len(durations) - 1, round(0.95 * (len(durations) - 1)))]
    return {"p50": statistics.median(durations), "p95": p95, "queries": len(statements)}


def run():
    from accounts.models import User

    with bench_database("bench_pgdeck_monitoring"):
        admin = User.objects.create_superuser("bench", "bench@example.com", "bench-pass", role="admin")
        client = Client()
        client.force_login(admin)
        create_tables(1, SMALL)
        small = {label: measure(client, url) for label, url in PAGES}
        create_tables(SMALL + 1, LARGE)
        large = {label: measure(client, url) for label, url in PAGES}
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    write_section("monitoring", f"Monitoring screens: {SMALL} vs {LARGE:,} tables", render(small, large, load))


def render(small, large, load):
    lines = ["| page | p50 ms (10) | p95 ms (10) | p50 ms (5,000) | p95 ms (5,000) | queries | p50 ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, _url in PAGES:
        a, b = small[label], large[label]
        lines.append(f"| {label} | {a['p50']:.1f} | {a['p95']:.1f} | {b['p50']:.1f} | {b['p95']:.1f} | "
                     f"{b['queries']} | {b['p50'] / a['p50']:.2f}× |")
    lines.append("")
    lines.append(f"One scratch database, the same run: {SMALL} user tables (id primary key, payload text, i.e. "
                 f"table + index + TOAST each), then {LARGE:,}. Django test client in-process (template rendering "
                 f"included, no network), {REPEAT} requests per row after {WARMUP} warm-ups; the Django tables of the "
                 "project (about 20) are there in both cases. Goal: ≤ 3× the 10-table figure and p95 ≤ 300 ms. "
                 f"Load average during the run: {load} (a shared 2-core machine: single runs vary by ±50 %). "
                 "\"queries\" counts statements for the 5,000-table page, including each monitoring query's "
                 "set_config timeouts.")
    return "\n".join(lines)
