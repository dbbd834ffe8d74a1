"""API key authentication cost: authenticated vs unauthenticated requests in one run, plus the key hash alone.

In-process through Django's test Client (every middleware, DRF, throttling) and over HTTP to a live gunicorn on
127.0.0.1 (bench/api_auth_wsgi.py), against a throwaway database on the configured server. Two pairs: the real
`/api/v1/posts/` list against its public twin (the same view with authentication and permissions off), and a bare
endpoint that touches no table (the worst case: there the key lookup is the only database round trip).
Goal: authenticated ≥ 90% of unauthenticated; key hash ≤ 10 µs.
"""

import os
import socket
import statistics
import subprocess
import sys
import time
import timeit
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.common import bench_database
from bench.report import write_section
from blog.api.views import PostViewSet

REQUESTS = 1500
POSTS = 2000


class PublicPostList(PostViewSet):
    """The real /api/v1/posts/ list with authentication and permissions switched off: the unauthenticated twin."""

    authentication_classes = []
    permission_classes = [AllowAny]


class WhoAmI(APIView):
    """Open to all with the default authentication: a key is checked when sent, so only authentication differs."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"user": request.user.username if request.user.is_authenticated else None})


urlpatterns = [
    path("bench/whoami", WhoAmI.as_view()),
    path("bench/public-posts/", PublicPostList.as_view({"get": "list"})),
    path("", include("config.urls")),
]

# (label, unauthenticated URL, authenticated URL)
PAIRS = [
    ("`GET /api/v1/posts/?page_size=20` (real endpoint) vs. its public twin",
     "/bench/public-posts/?page_size=20", "/api/v1/posts/?page_size=20"),
    ("`GET /bench/whoami` (no table touched; worst case)", "/bench/whoami", "/bench/whoami"),
]


class HttpClient:
    """The same `get(url, headers=…)` as Django's Client, over HTTP to a live gunicorn (one connection a request)."""

    def __init__(self, base):
        import requests

        self.base, self.session = base, requests.Session()

    def get(self, url, headers=None):
        return self.session.get(self.base + url, headers=headers or {}, timeout=30)


@contextmanager
def live_gunicorn(database_name, workers=1):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "BENCH_API_AUTH_DB": database_name, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    argv = [sys.executable, "-m", "gunicorn", "bench.api_auth_wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--log-level", "warning"]
    server = subprocess.Popen(argv, env=env, cwd=Path(__file__).resolve().parent.parent)
    client = HttpClient(f"http://127.0.0.1:{port}")
    try:
        for _ in range(100):
            try:
                client.get("/bench/whoami")
                break
            except OSError:
                time.sleep(0.2)
        yield client
    finally:
        server.terminate()
        server.wait(timeout=10)


def _seconds(client, url, headers):
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content
    return elapsed


def _pair(client, anon_url, auth_url, headers):
    """Alternate the two requests one by one, so load on the machine hits both alike; req/s from the medians."""
    for _ in range(50):  # warm up both paths
        _seconds(client, anon_url, {})
        _seconds(client, auth_url, headers)
    anon, auth = [], []
    for _ in range(REQUESTS):
        anon.append(_seconds(client, anon_url, {}))
        auth.append(_seconds(client, auth_url, headers))
    return 1 / statistics.median(anon), 1 / statistics.median(auth)


def _hash_cost_us(plaintext, stored_hash):
    from accounts import keys

    runs = 100_000
    hash_us = min(timeit.repeat(lambda: keys.hash_key(plaintext), number=runs, repeat=3)) / runs * 1e6
    verify_us = min(timeit.repeat(lambda: keys.key_matches(plaintext, stored_hash), number=runs, repeat=3)) / runs
    return hash_us, verify_us * 1e6


def _measure():
    from accounts.services import api_key_create
    from blog.models import Post
    from tests.factories import BlogUserFactory, UserFactory

    author = BlogUserFactory()
    Post.objects.bulk_create(Post(title=f"post {n}", content="x" * 200, user=author) for n in range(POSTS))
    owner = UserFactory(username="bench-viewer", role="viewer")
    api_key, plaintext = api_key_create(user=owner, name="bench", scopes=["read"])
    headers = {"Authorization": f"Bearer {plaintext}"}
    rates = [("in-process", label, *_pair(Client(), anon_url, auth_url, headers))
             for label, anon_url, auth_url in PAIRS]
    with live_gunicorn(connection.settings_dict["NAME"]) as http:
        rates += [("HTTP, gunicorn", label, *_pair(http, anon_url, auth_url, headers))
                  for label, anon_url, auth_url in PAIRS]
    return rates, _hash_cost_us(plaintext, api_key.key_hash)


def _run_in_throwaway_database():
    with bench_database("bench_api_auth"), override_settings(ROOT_URLCONF="bench.api_auth"):
        version = f"{connection.pg_version // 10000}.{connection.pg_version % 10000}"
        return (*_measure(), version)


def _verdict(ratio):
    return "met" if ratio >= 0.9 else "not met"


def run():
    load_before = os.getloadavg()[0]
    rates, (hash_us, verify_us), version = _run_in_throwaway_database()
    rows = "\n".join(f"| {how} | {label} | {anon:,.0f} | {auth:,.0f} | {auth / anon:.0%} ({_verdict(auth / anon)}) |"
                     for how, label, anon, auth in rates)
    body = f"""
Each pair is the same request without and with `Authorization: Bearer pgd_…`, measured in one run: {REQUESTS}
requests per side, alternating one by one (so load on the machine hits both alike), req/s = 1 / median latency.
"in-process": Django's test Client through every middleware, DRF and throttling, no HTTP. "HTTP": a live gunicorn
(1 sync worker, a new connection per request, as most scripts do) on 127.0.0.1. PostgreSQL {version}; {POSTS} posts
in the table; {os.cpu_count()} CPUs, load average {load_before:.1f} when the run started (other work on the machine
slows every database round trip). Goal: with a key ≥ 90% of the baseline.

| how | endpoint | without key (req/s) | with key (req/s) | with key / without |
| --- | --- | ---: | ---: | ---: |
{rows}

| key check step | µs per call | goal |
| --- | ---: | ---: |
| HMAC-SHA-256 of the key (`keys.hash_key`) | {hash_us:.2f} | ≤ 10 µs ({"met" if hash_us <= 10 else "not met"}) |
| hash + constant-time compare (`keys.key_matches`) | {verify_us:.2f} | |

A request with a key adds exactly one database round trip: the indexed lookup of `api_keys` by prefix, joined to
its owner, with the owner's permissions in the same statement (so `has_perm` needs no further query), plus the
HMAC. The lookup is a server-side prepared statement, planned once per pooled connection (planning was ~0.2 ms of
its ~0.3 ms; behind PgBouncer it stays a plain statement). On the bare endpoint the key also costs the request its
only pool checkout, with the pool's per-checkout health check (`CONN_HEALTH_CHECKS`): a second round trip.
`last_used` is written at most once a minute per key, so these runs write nothing after the first request.
On the real endpoint the lookup is the whole difference; on the bare endpoint it (with the checkout) is the only
database work of the request, so in-process, where nothing else costs, the ratio shows the price of that; over
HTTP the connection and parsing a client pays anyway dilute it.
"""
    write_section("api_auth", "API key authentication overhead", body)
    for how, label, anon, auth in rates:
        print(f"{how} {label}: without key {anon:,.0f} req/s, with key {auth:,.0f} req/s ({auth / anon:.0%})")
    print(f"hash {hash_us:.2f} µs, verify {verify_us:.2f} µs")
