"""Export of 1M rows through the app (API, streamed response consumed) vs `psql \\copy` of the same query.

Both read as the query role from the same server in the same run; figures are throughput ratios and the
process's RSS growth while the app streams (goal: >= 80% of psql's throughput, <= 50 MB RSS growth).
"""

import shutil
import statistics
import subprocess
import threading
import time
from io import StringIO

import psutil
from django.core.management import call_command
from django.test import Client

from bench.report import write_section
from dbtools.models import QueryHistory
from dbtools.query.connection import conninfo

ROWS = 1_000_000
SQL = ("SELECT g AS id, md5(g::text) AS name, g % 97 = 0 AS flag, TIMESTAMP '2026-01-01' + g * INTERVAL '1 s' AS at "
       "FROM generate_series(1, 1000000) g")
RUNS = 5


class RssSampler(threading.Thread):
    """Peak RSS of this process, sampled every 20 ms while the export streams."""

    def __init__(self):
        super().__init__(daemon=True)
        self.process, self.peak, self.running = psutil.Process(), 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def stop(self):
        self.running = False
        self.join()
        return self.peak


def _psql():
    found = shutil.which("psql")
    if not found:
        raise SystemExit("bench.export needs psql on PATH for the baseline")
    return found


def psql_copy():
    params = conninfo("read")
    args = [_psql(), "-X", "-q", "-h", params["host"], "-p", str(params.get("port", 5432)), "-U", params["user"],
            "-d", params["dbname"], "-c", f"\\copy ({SQL}) TO STDOUT WITH (FORMAT csv, HEADER)"]
    started = time.perf_counter()
    output = subprocess.run(args, check=True, capture_output=True).stdout
    return time.perf_counter() - started, len(output)


def app_export(client, fmt):
    sampler = RssSampler()
    before = psutil.Process().memory_info().rss
    sampler.start()
    started = time.perf_counter()
    response = client.post(f"/api/v1/query/export?format={fmt}", {"sql": SQL}, content_type="application/json")
    assert response.status_code == 200, response.content[:500]
    size, first_byte = 0, None
    for chunk in response.streaming_content:
        first_byte = first_byte or time.perf_counter() - started
        size += len(chunk)
    elapsed = time.perf_counter() - started
    response.close()
    return elapsed, size, first_byte, (sampler.stop() - before) / 2**20


def _client():
    from accounts.models import User

    user, _created = User.objects.get_or_create(username="bench-export", defaults={"role": "admin",
                                                                                  "is_superuser": True})
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client, user


def measure(client):
    psql, app, json_runs = [], [], []
    for _ in range(RUNS):  # interleaved, so background load hits every path alike
        psql.append(psql_copy())
        app.append(app_export(client, "csv"))
        json_runs.append(app_export(client, "json"))
    return psql, app, json_runs


def report(psql, app, json_runs):
    psql_s, psql_bytes = min(t for t, _ in psql), psql[0][1]
    baseline = psql_bytes / psql_s

    def row(label, seconds, size):
        speed = size / seconds
        return f"| {label} | {seconds:.2f} s | {size:,} | {speed / 2**20:.1f} MB/s | {speed / baseline:.2f} |"

    app_s, app_bytes = min(r[0] for r in app), app[0][1]
    json_s, json_bytes = min(r[0] for r in json_runs), json_runs[0][1]
    table = "\n".join([
        "| path | best time | bytes | throughput | vs psql |", "| --- | --- | --- | --- | --- |",
        row("psql `\\copy` CSV", psql_s, psql_bytes),
        row("app CSV (POST /api/v1/query/export, streamed)", app_s, app_bytes),
        row("app JSON array", json_s, json_bytes)])
    return f"""
{ROWS:,} rows (`generate_series`, 4 columns), best of {RUNS} interleaved runs each, as the query role on the same
server (2 cores shared with other work, so absolute figures vary; the ratio is what counts).
Baseline: `psql \\copy (…) TO STDOUT WITH (FORMAT csv, HEADER)`.

{table}

- App CSV throughput is **{app_bytes / app_s / baseline:.0%} of psql's** (goal >= 80%).
- Peak RSS growth of the Django process while streaming: **{max(r[3] for r in app + json_runs):.1f} MB**
  (goal <= 50 MB).
- Time to first byte (app CSV, median): {statistics.median(r[2] for r in app) * 1000:.0f} ms.
"""


def run():
    call_command("setup_query_role", stdout=StringIO())
    client, user = _client()
    try:
        results = measure(client)
    finally:
        QueryHistory.objects.filter(user=user).delete()
        user.delete()
    body = report(*results)
    write_section("export", "Query editor export: app vs psql \\copy", body)
    print(body)
