"""API key authentication cost: authenticated vs unauthenticated requests in one run, plus the key hash alone.

In-process through Django's test Client (every middleware, DRF, throttling) against a throwaway database on the
configured server. Two pairs: the real `/api/v1/posts/` list against its public twin (the same view with
authentication and permissions off), and a bare endpoint that touches no table (the worst case: there the key
lookup is the only database round trip). Goal: authenticated ≥ 90% of unauthenticated; key hash ≤ 10 µs.
"""

import time
import timeit

from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import setup_databases, setup_test_environment, teardown_databases, teardown_test_environment
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.report import write_section
from blog.api.views import PostViewSet

ROUNDS = 5
REQUESTS_PER_ROUND = 500
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


def _rate(client, url, headers, count):
    started = time.perf_counter()
    for _ in range(count):
        response = client.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content
    return count / elapsed


def _pair(client, anon_url, auth_url, headers):
    _rate(client, anon_url, {}, 100)  # warm up both paths
    _rate(client, auth_url, headers, 100)
    anon, auth = [], []
    for _ in range(ROUNDS):  # interleaved, so drift on the machine hits both sides alike
        anon.append(_rate(client, anon_url, {}, REQUESTS_PER_ROUND))
        auth.append(_rate(client, auth_url, headers, REQUESTS_PER_ROUND))
    return max(anon), max(auth)


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
    client = Client()
    rates = [(label, *_pair(client, anon_url, auth_url, headers)) for label, anon_url, auth_url in PAIRS]
    return rates, _hash_cost_us(plaintext, api_key.key_hash)


def _run_in_throwaway_database():
    settings.DATABASES["default"]["TEST"] = {**settings.DATABASES["default"].get("TEST", {}), "NAME": "bench_api_auth"}
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        with override_settings(ROOT_URLCONF="bench.api_auth"):
            version = f"{connection.pg_version // 10000}.{connection.pg_version % 10000}"
            return (*_measure(), version)
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()


def run():
    rates, (hash_us, verify_us), version = _run_in_throwaway_database()
    rows = "\n".join(f"| {label} | {anon:,.0f} | {auth:,.0f} | {auth / anon:.0%} |" for label, anon, auth in rates)
    body = f"""
Django test Client in-process through every middleware, DRF and throttling; best of {ROUNDS} interleaved rounds of
{REQUESTS_PER_ROUND} requests per side; PostgreSQL {version}; {POSTS} posts in the table. Baseline: the same request
without a key. Goal: with a key ≥ 90% of the baseline.

| endpoint | without key (req/s) | with `Bearer pgd_…` (req/s) | with key / without |
| --- | ---: | ---: | ---: |
{rows}

| key check step | µs per call | goal |
| --- | ---: | ---: |
| HMAC-SHA-256 of the key (`keys.hash_key`) | {hash_us:.2f} | ≤ 10 µs |
| hash + constant-time compare (`keys.key_matches`) | {verify_us:.2f} | |

A request with a key adds exactly one database round trip: the indexed lookup of `api_keys` by prefix, joined to
its owner, with the owner's permissions in the same statement (so `has_perm` needs no further query), plus the
HMAC. `last_used` is written at most once a minute per key, so these runs write nothing after the first request.
On a real endpoint, which queries its table anyway, that round trip is the few per cent above; on the bare
endpoint it is the only database work of the request, so the ratio there is the cost of one round trip against an
in-process request that never leaves Python (shown for honesty, not a realistic call).
"""
    write_section("api_auth", "API key authentication overhead", body)
    for label, anon, auth in rates:
        print(f"{label}: without key {anon:,.0f} req/s, with key {auth:,.0f} req/s ({auth / anon:.0%})")
    print(f"hash {hash_us:.2f} µs, verify {verify_us:.2f} µs")
