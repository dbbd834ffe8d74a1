"""API key authentication cost: authenticated vs unauthenticated requests in one run, plus the key hash alone.

In-process through Django's test Client (every middleware, DRF, throttling) and over HTTP to a live gunicorn on
127.0.0.1 (bench/api_auth_wsgi.py), against a throwaway database on the configured server. Two pairs: the real
`/api/v1/posts/` list against its public twin (the same view with authentication and permissions off), and a bare
endpoint that touches no table (the worst case: there the key lookup is the only database round trip).
Each pair runs with the per-process key cache (accounts/key_cache.py) off and on. A last part revokes keys from
outside the app (a separate connection, as psql would) and asks a 2-worker gunicorn at once whether it still
takes them: how revocation reaches other processes.
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

REQUESTS = 1000
REVOCATIONS = 40
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
    ("`GET /api/v1/posts?page_size=20` (real endpoint) vs. its public twin",
     "/bench/public-posts/?page_size=20", "/api/v1/posts?page_size=20"),
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
def live_gunicorn(database_name, workers=1, key_cache=False):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "BENCH_API_AUTH_DB": database_name, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "API_KEY_CACHE": "true" if key_cache else "false"}
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


def _make_key(username, name):
    from accounts.services import api_key_create
    from tests.factories import UserFactory

    owner = UserFactory(username=username, role="viewer")
    return api_key_create(user=owner, name=name, scopes=["read"])


@contextmanager
def _key_cache(on):
    from accounts.key_cache import key_cache

    with override_settings(API_KEY_CACHE=on):
        key_cache.stop()
        if on:
            assert key_cache.wait_ready(10), "the key cache's LISTEN connection did not come up"
        try:
            yield
        finally:
            key_cache.stop()  # its connection would keep the throwaway database from being dropped


def _rates(headers):
    rates = []
    for cache in (False, True):
        with _key_cache(cache):
            rates += [("in-process", label, cache, *_pair(Client(), anon_url, auth_url, headers))
                      for label, anon_url, auth_url in PAIRS]
        with live_gunicorn(connection.settings_dict["NAME"], key_cache=cache) as http:
            rates += [("HTTP, gunicorn", label, cache, *_pair(http, anon_url, auth_url, headers))
                      for label, anon_url, auth_url in PAIRS]
    return rates


def _revocations():
    """Revoke keys from outside the app while a 2-worker gunicorn has them cached; count the first request
    after each commit that was refused, and how long until the key was refused."""
    import psycopg

    from tests.catalog import conninfo_for

    keys = [_make_key(f"bench-revoke-{n}", "revoke")[1] for n in range(REVOCATIONS)]
    refused_first, waits = 0, []
    with live_gunicorn(connection.settings_dict["NAME"], workers=2, key_cache=True) as http, \
            psycopg.connect(conninfo_for(connection.settings_dict), autocommit=True) as outside:
        for plaintext in keys:
            headers = {"Authorization": f"Bearer {plaintext}"}
            for _ in range(8):  # a new connection each: both workers end up holding the key
                assert http.get("/bench/whoami", headers=headers).status_code == 200
            outside.execute("UPDATE api_keys SET revoked_at = now() WHERE prefix = %s", [plaintext.split("_")[1]])
            committed = time.perf_counter()
            status = http.get("/bench/whoami", headers=headers).status_code
            refused_first += status == 401
            while status != 401 and time.perf_counter() - committed < 5:
                status = http.get("/bench/whoami", headers=headers).status_code
            waits.append((time.perf_counter() - committed) * 1000)
    return refused_first, max(waits)


def _measure():
    from blog.models import Post
    from tests.factories import BlogUserFactory

    author = BlogUserFactory()
    Post.objects.bulk_create(Post(title=f"post {n}", content="x" * 200, user=author) for n in range(POSTS))
    api_key, plaintext = _make_key("bench-viewer", "bench")
    rates = _rates({"Authorization": f"Bearer {plaintext}"})
    return rates, _hash_cost_us(plaintext, api_key.key_hash), _revocations()


def _run_in_throwaway_database():
    with bench_database("bench_api_auth"), override_settings(ROOT_URLCONF="bench.api_auth"):
        version = f"{connection.pg_version // 10000}.{connection.pg_version % 10000}"
        return (*_measure(), version)


def _verdict(ratio):
    return "met" if ratio >= 0.9 else "not met"


def run():
    load_before = os.getloadavg()[0]
    rates, (hash_us, verify_us), (refused_first, slowest_ms), version = _run_in_throwaway_database()
    rows = "\n".join(f"| {how} | {label} | {'on' if cache else 'off'} | {anon:,.0f} | {auth:,.0f} | "
                     f"{auth / anon:.0%} ({_verdict(auth / anon)}) |" for how, label, cache, anon, auth in rates)
    body = f"""
Each pair is the same request without and with `Authorization: Bearer pgd_…`, measured in one run: {REQUESTS}
requests per side, alternating one by one (so load on the machine hits both alike), req/s = 1 / median latency;
every pair once with the key cache off and once on (`API_KEY_CACHE`). "in-process": Django's test Client through
every middleware, DRF and throttling, no HTTP. "HTTP": a live gunicorn (1 sync worker, a new connection per
request, as most scripts do) on 127.0.0.1. PostgreSQL {version}; {POSTS} posts in the table; {os.cpu_count()} CPUs,
load average {load_before:.1f} when the run started. Goal: with a key ≥ 90% of the baseline.

| how | endpoint | key cache | without key (req/s) | with key (req/s) | with key / without |
| --- | --- | --- | ---: | ---: | ---: |
{rows}

| key check step | µs per call | goal |
| --- | ---: | ---: |
| HMAC-SHA-256 of the key (`keys.hash_key`) | {hash_us:.2f} | ≤ 10 µs ({"met" if hash_us <= 10 else "not met"}) |
| hash + constant-time compare (`keys.key_matches`) | {verify_us:.2f} | |

**Revocation with the cache on**: {REVOCATIONS} keys, each used 8 times through a 2-worker gunicorn (so both
workers cache it), then revoked by an `UPDATE api_keys` on a separate connection, as from psql (the app is not
told; only PostgreSQL's NOTIFY reaches it). The first request after the commit was refused for
**{refused_first}/{REVOCATIONS}** keys; the slowest refusal came back {slowest_ms:.1f} ms after the commit.

Without the cache, a request with a key adds one database round trip: the indexed lookup of `api_keys` by prefix,
joined to its owner, with the owner's permissions in the same statement, as a prepared statement (behind
PgBouncer a plain one); on the bare endpoint it also costs the request its only pool checkout. With the cache
(the default; off behind PgBouncer), a key seen before costs the HMAC, a dict lookup and a non-blocking poll of
the process's LISTEN socket: no database work. Triggers NOTIFY every process when a key, admin user, group
membership or permission changes, so revocation, deactivation and role changes still apply on the next request,
and expiry is compared with the clock on every request. `last_used` is written at most once a minute per key.
"""
    write_section("api_auth", "API key authentication overhead", body)
    for how, label, cache, anon, auth in rates:
        print(f"{how} {label} (cache {'on' if cache else 'off'}): without key {anon:,.0f} req/s, "
              f"with key {auth:,.0f} req/s ({auth / anon:.0%})")
    print(f"hash {hash_us:.2f} µs, verify {verify_us:.2f} µs")
    print(f"revoked from outside: first request refused {refused_first}/{REVOCATIONS}, slowest {slowest_ms:.1f} ms")
