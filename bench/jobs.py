"""Jobs (issue 16): pick-up latency (enqueue → started) with 1 vs 4 workers, and the throughput of 1,000
no-op jobs through pgdeck's bookkeeping (JobRun row, progress, log tail) vs a bare procrastinate task, same run.

Real `manage.py worker` processes on a throw-away migrated database; times come from procrastinate's own event
log (database clock), so process start-up is not counted.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection
from psycopg import sql

from bench.common import bench_database, percentile
from bench.report import write_section

ROOT = Path(__file__).resolve().parent.parent
LATENCY_JOBS, LATENCY_GAP = 100, 0.05
THROUGHPUT_JOBS, WARMUP_JOBS = 1_000, 200
ROUNDS = 7  # the machine is shared: single rounds swing by ±20 %, the median of seven less so


def _url():
    s = connection.settings_dict
    host = f"@/{s['NAME']}?host={s['HOST']}&port={s['PORT']}" if s["HOST"].startswith("/") else \
        f"@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return f"postgresql://{s['USER']}{host}"


def _worker(*args):
    env = {**os.environ, "DATABASE_URL": _url(), "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "DJANGO_DEBUG": "false", "JOBS_SWEEP_SECONDS": "3600"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.Popen([sys.executable, "manage.py", "worker", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _query(text, params=None):
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        return cursor.fetchall()


def _wait(predicate, timeout=600):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("bench: workers did not finish in time")
        time.sleep(0.1)


def _latency(workers):
    from jobs.starters import noop_job

    procs = [_worker("--concurrency", "1") for _ in range(workers)]
    try:
        _wait(lambda: _query("SELECT count(*) FROM procrastinate_workers")[0][0] >= workers)
        ids = []
        for _ in range(LATENCY_JOBS):
            ids.append(noop_job(actor="bench").queue_job_id)
            time.sleep(LATENCY_GAP)
        _wait(lambda: _query("SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(%s) AND status = 'succeeded'",
                             [ids])[0][0] == len(ids))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
    rows = _query("SELECT extract(epoch FROM s.at - d.at) * 1000 FROM procrastinate_events d "
                  "JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started' "
                  "WHERE d.type = 'deferred' AND d.job_id = ANY(%s)", [ids])
    ms = sorted(float(r[0]) for r in rows)
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95)}


def _settle():
    """Each run starts from the same state: the last run's dead rows vacuumed now rather than by autovacuum in
    the middle of the next run (it did: a run's rate dropped by half for a few hundred jobs, on either side),
    and right after a checkpoint, so each run writes the same full-page images rather than whichever side runs
    when a timed checkpoint falls due."""
    with connection.cursor() as cursor:
        for table in ("procrastinate_jobs", "procrastinate_events", "job_runs"):
            cursor.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false)").format(sql.Identifier(table)))
        cursor.execute("VACUUM ANALYZE procrastinate_jobs, procrastinate_events, job_runs")
        cursor.execute("CHECKPOINT")


def _throughput(task_name, enqueue):
    """Jobs/s over THROUGHPUT_JOBS jobs queued behind WARMUP_JOBS of the same kind: the warm-up (not counted)
    takes the worker's one-off costs (its threads, their database connections, first imports), so both sides
    are measured as a long-running worker runs."""
    ids = enqueue(WARMUP_JOBS + THROUGHPUT_JOBS)[WARMUP_JOBS:]  # fetched in id order: the warm-up runs first
    _settle()
    proc = _worker("--concurrency", "4", "--once")
    proc.wait(900)
    first, last, done = _query(
        "SELECT min(at) FILTER (WHERE type = 'started'), max(at) FILTER (WHERE type = 'succeeded'), "
        "count(*) FILTER (WHERE type = 'succeeded') FROM procrastinate_events WHERE job_id = ANY(%s)", [ids])[0]
    assert done == len(ids), f"{task_name}: {done} of {len(ids)} succeeded"
    return len(ids) / (last - first).total_seconds()


def _ours(count):
    from jobs.starters import noop_job

    return [noop_job(actor="bench").queue_job_id for _ in range(count)]


def _bare(count):
    from procrastinate.contrib.django import app

    from jobs import tasks  # noqa: F401

    task = app.tasks["pgdeck.bare_noop"]
    return [task.defer() for _ in range(count)]


def run():
    with bench_database("bench_pgdeck_jobs"):
        latency = {n: _latency(n) for n in (1, 4)}
        # Alternating rounds: on a shared machine the load swings within a minute; each round's pair ran
        # back to back, and the median round is reported with every round's figures.
        rounds = [(_throughput("bare", _bare), _throughput("pgdeck", _ours)) for _ in range(ROUNDS)]
    bare, ours = sorted(rounds, key=lambda pair: pair[1] / pair[0])[len(rounds) // 2]
    ratio = ours / bare
    each = ", ".join(f"{o / b:.0%} ({o:.0f}/{b:.0f})" for b, o in rounds)
    body = [
        f"Pick-up latency: {LATENCY_JOBS} no-op jobs enqueued {LATENCY_GAP * 1000:.0f} ms apart; time from "
        "procrastinate's `deferred` event to `started` (LISTEN/NOTIFY wake-up).", "",
        "| workers (concurrency 1 each) | p50 | p95 |", "| --- | --- | --- |",
        *[f"| {n} | {v['p50']:.1f} ms | {v['p95']:.1f} ms |" for n, v in latency.items()], "",
        f"Throughput: {THROUGHPUT_JOBS:,} no-op jobs queued behind {WARMUP_JOBS} warm-up jobs of the same kind "
        "(not counted: the worker's threads, connections and first imports), then one worker (`--concurrency 4 "
        "--once`); first `started` to last `succeeded` event of the counted jobs. Before each run the queue "
        "tables are vacuumed and a checkpoint taken (autovacuum off on them), so every run starts from the same "
        "state and none pays for the one before. "
        f"{ROUNDS} rounds, each a bare run then a pgdeck run; the median round:", "",
        "| | jobs/s |", "| --- | --- |",
        f"| bare procrastinate task | {bare:.0f} |",
        f"| pgdeck job (JobRun row, claim, log tail, result) | {ours:.0f} |",
        f"| ratio | {ratio:.0%} (goal ≥ 80%) |", "",
        f"Every round, pgdeck/bare: {each}.", "",
        f"Machine: {os.cpu_count()} cores, shared with other work (load average {os.getloadavg()[0]:.1f} at the "
        "end); embedded PostgreSQL on a Unix socket.",
    ]
    write_section("jobs", "Jobs: pick-up latency and throughput vs bare procrastinate", "\n".join(body))
    print("\n".join(body))
