"""`make load`: gunicorn with several workers on 127.0.0.1 and wrk for a fixed time per endpoint.

A throwaway database with the demo data set (blog_seed), an admin with an API key and a logged-in session; then
wrk (--latency) against the main API endpoints (with the key) and admin pages (with the session cookie), and the
same endpoint without and with a key for the authentication overhead. Every URL is first checked to answer 200
(wrk counts a 3xx, e.g. a redirect to the login page, as a success). Writes the `load` section of
docs/benchmarks.md. Throttle rates are the test settings' (100,000/min): the production defaults would answer 429
to a load this size, which measures the throttle, not the app.
"""

import os
import re
import shutil
import subprocess
import sys

from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from bench.common import bench_database
from bench.report import write_section

WORKERS = 3
SECONDS = int(os.environ.get("LOAD_SECONDS", "8"))
CONNECTIONS = 8
USERS, POSTS = 2_000, 20_000
# (label, URL, credentials: None / "key" / "session")
ENDPOINTS = [
    ("API health", "/api/v1/health", None),
    ("API me", "/api/v1/me", "key"),
    ("API posts list", "/api/v1/posts?page_size=20", "key"),
    ("API post detail", "/api/v1/posts/{post_id}", "key"),
    ("API monitoring overview", "/api/v1/monitoring/overview", "key"),
    ("admin index", "/admin/", "session"),
    ("admin posts changelist", "/admin/blog/post/", "session"),
    ("admin monitoring overview", "/admin/dbtools/monitoring/", "session"),
]
# The same view without and with a key (bench/api_auth.py's twins): the authentication overhead under load.
PAIRS = [
    ("posts list (real endpoint vs. its public twin)", "/bench/public-posts/?page_size=20",
     "/api/v1/posts?page_size=20"),
    ("bare endpoint, no table (worst case)", "/bench/whoami", "/bench/whoami"),
]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_binary():
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is not installed: `make load` installs Debian's wrk package (apt-get install wrk).")
    return found


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output):
    """req/s, p50/p99 in ms, request count and errors (non-2xx/3xx responses + socket errors) of wrk --latency."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(percentiles["50"]), "p99": _ms(percentiles["99"]),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0),
    }


def run_wrk(base, url, headers, seconds=SECONDS):
    argv = [wrk_binary(), "--latency", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "10s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    result = subprocess.run(argv + [base + url], capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed on {url}: {result.stderr.strip()}")
    return parse_wrk(result.stdout)


def _alternating(base, anon_url, auth_url, headers, rounds=4):
    """Without and with the key in turns of SECONDS/2 each, so changing load on the machine hits both alike."""
    runs = {"anon": [], "auth": []}
    for _ in range(rounds):
        runs["anon"].append(run_wrk(base, anon_url, {}, max(1, SECONDS // 2)))
        runs["auth"].append(run_wrk(base, auth_url, headers, max(1, SECONDS // 2)))
    return [{"rps": sum(r["rps"] for r in side) / rounds, "errors": sum(r["errors"] for r in side)}
            for side in (runs["anon"], runs["auth"])]


def _credentials(plaintext, session_cookie):
    return {None: {}, "key": {"Authorization": f"Bearer {plaintext}"}, "session": {"Cookie": session_cookie}}


def _prepare():
    """Demo data, an admin with an API key and a session; returns (credential headers, a post id)."""
    from accounts.services import api_key_create
    from blog.models import Post
    from blog.services import blog_seed
    from tests.factories import UserFactory

    blog_seed(users=USERS, posts=POSTS, seed=9)
    admin = UserFactory(username="load-admin", role="admin", is_superuser=True)
    _key, plaintext = api_key_create(user=admin, name="load", scopes=None)
    browser = Client()
    browser.force_login(admin)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    return _credentials(plaintext, cookie), Post.objects.order_by("id").values_list("id", flat=True)[POSTS // 2]


def _check_answers_200(http, url, headers):
    response = http.session.get(http.base + url, headers=headers, timeout=30, allow_redirects=False)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}, not 200: {response.text[:200]}")


def _measure():
    from bench.api_auth import live_gunicorn  # imports DRF views: only once Django is set up

    credentials, post_id = _prepare()
    endpoints, pairs = [], []
    with live_gunicorn(connection.settings_dict["NAME"], workers=WORKERS, key_cache=True) as http:
        for label, url, kind in ENDPOINTS:
            url = url.format(post_id=post_id)
            _check_answers_200(http, url, credentials[kind])
            endpoints.append((label, url, kind, run_wrk(http.base, url, credentials[kind])))
            print(f"{label}: {endpoints[-1][3]}", flush=True)
        for label, anon_url, auth_url in PAIRS:
            _check_answers_200(http, anon_url, {})
            _check_answers_200(http, auth_url, credentials["key"])
            pairs.append((label, *_alternating(http.base, anon_url, auth_url, credentials["key"])))
            print(f"{label}: {pairs[-1][1]} / {pairs[-1][2]}", flush=True)
    return endpoints, pairs


def _run_in_throwaway_database():
    with bench_database("bench_load"), override_settings(ROOT_URLCONF="bench.api_auth"):
        version = f"{connection.pg_version // 10000}.{connection.pg_version % 10000}"
        return (*_measure(), version)


def _row(label, url, kind, stats):
    return (f"| {label} | `{url}` | {kind or 'none'} | {stats['rps']:,.0f} | {stats['p50']:.1f} | "
            f"{stats['p99']:.1f} | {stats['requests']:,} | {stats['errors']} |")


def run():
    load_before = os.getloadavg()[0]
    endpoints, pairs, version = _run_in_throwaway_database()
    rows = "\n".join(_row(*entry) for entry in endpoints)
    ratios = "\n".join(
        f"| {label} | {anon['rps']:,.0f} | {auth['rps']:,.0f} | {auth['rps'] / anon['rps']:.0%} "
        f"({'met' if auth['rps'] >= 0.9 * anon['rps'] else 'not met'}) | {anon['errors'] + auth['errors']} |"
        for label, anon, auth in pairs)
    errors = sum(stats["errors"] for *_rest, stats in endpoints) + sum(a["errors"] + b["errors"] for _l, a, b in pairs)
    body = f"""
`make load` (bench/load.py): gunicorn with {WORKERS} sync workers on 127.0.0.1, wrk with 2 threads and
{CONNECTIONS} keep-alive connections for {SECONDS} s per endpoint, on a throwaway database with {USERS:,} users and
{POSTS:,} posts (PostgreSQL {version}). API calls send an admin's key (`Authorization: Bearer …`), admin pages a
logged-in session cookie; every URL was checked to answer 200 first. The key cache is on (`API_KEY_CACHE`, the
default outside tests). {os.cpu_count()} CPUs shared by wrk, gunicorn
and PostgreSQL; load average {load_before:.1f} when the run started. Throttle rates are the test settings'.
Errors = non-2xx/3xx responses + socket errors (connect, read, write, timeout). Goal: zero errors.

| endpoint | URL | credentials | req/s | p50 ms | p99 ms | requests | errors |
| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |
{rows}

Authentication overhead under load: the same view without and with a key, in 4 alternating turns of
{max(1, SECONDS // 2)} s each, req/s averaged over the turns (goal ≥ 90%).

| endpoint | without key (req/s) | with key (req/s) | with key / without | errors |
| --- | ---: | ---: | ---: | ---: |
{ratios}

Total errors: {errors} ({"goal met" if errors == 0 else "goal not met"}).
"""
    write_section("load", "Load: gunicorn + wrk", body)
    print(f"total errors: {errors}")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    run()
