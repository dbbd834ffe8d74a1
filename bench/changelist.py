"""Posts changelist at 1k vs 1M rows: the same page, query count, p50/p95 (goal: ≤ 2× and < 100 ms p95)."""

import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.common import bench_database, summary, timed
from bench.report import write_section

SMALL, LARGE = 1_000, 1_000_000
REPEAT = 40
PAGES = (("posts", "/admin/blog/post/"), ("posts, filtered", "/admin/blog/post/?is_published__exact=1"))


def measure(client, url):
    client.get(url)  # warm caches and the session
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    queries = len(ctx.captured_queries)  # read now: every request resets Django's query log
    durations = timed(lambda: client.get(url), REPEAT)
    return {**summary(durations), "queries": queries}


def run():
    from accounts.models import User
    from blog.services import blog_seed

    with bench_database():
        admin = User.objects.create_superuser("bench", "bench@example.com", "bench-pass", role="admin")
        client = Client()
        client.force_login(admin)
        rows = []
        blog_seed(users=100, posts=SMALL, seed=1)
        for label, url in PAGES:
            rows.append((label, SMALL, measure(client, url)))
        started = time.perf_counter()
        blog_seed(users=10_000, posts=LARGE - SMALL, seed=2)
        seed_seconds = time.perf_counter() - started
        for label, url in PAGES:
            rows.append((label, LARGE, measure(client, url)))
    body = render(rows) + (f"\n\nLoading the extra {LARGE - SMALL:,} posts and 10,000 users with `seed_demo`'s COPY "
                           f"path took {seed_seconds:.1f} s (issue goal: 1M posts well under a minute).")
    write_section("changelist", "Admin posts changelist: 1k vs 1M rows", body)


def render(rows):
    by_key = {(label, n): m for label, n, m in rows}
    lines = ["| page | rows | p50 ms | p95 ms | queries | p50 vs 1k |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, n, m in rows:
        ratio = m["p50"] / by_key[(label, SMALL)]["p50"]
        lines.append(f"| {label} | {n:,} | {m['p50']:.1f} | {m['p95']:.1f} | {m['queries']} | {ratio:.2f}× |")
    lines.append("")
    lines.append("Measured in-process with Django's test client (template rendering included, no network), "
                 f"{REPEAT} requests per row after one warm-up. Goal: the 1M page within 2× of the 1k page, "
                 "p95 under 100 ms, at most 6 queries. The count comes from the planner (EXPLAIN) above "
                 "ESTIMATED_COUNT_THRESHOLD rows instead of COUNT(*).")
    return "\n".join(lines)
