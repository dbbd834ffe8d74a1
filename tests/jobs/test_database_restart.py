"""Issue 16: PostgreSQL restarts while jobs are queued: they run after it is back, none runs twice, and the
worker that was running (the same process) resumes by itself. A private cluster this test stops and starts,
and a real `manage.py worker` subprocess."""

import os
import signal
import tempfile
import time
from urllib.parse import quote

import psutil
import psycopg
import pytest

from tests.jobs.workers import FAST, Worker
from tests.servers import ScratchCluster, manage

pytestmark = pytest.mark.slow

# 20 no-op jobs, held back by procrastinate's `scheduled_at` (an hour ahead) so they are certainly still
# queued while the database goes down (deferred and held in one transaction); the test releases them once it
# is back.
ENQUEUE_HELD = """
from django.db import connection, transaction
from jobs.starters import noop_job
with transaction.atomic(), connection.cursor() as cursor:
    runs = [noop_job(actor="restart-test") for _ in range(20)]
    cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() + interval '1 hour' WHERE id = ANY(%s)",
                   [[run.queue_job_id for run in runs]])
print(",".join(str(run.pk) for run in runs))
"""
ENQUEUE_NOW = """
from jobs.starters import noop_job
print(",".join(str(noop_job(actor="restart-test").pk) for _ in range(5)))
"""


@pytest.fixture(scope="module")
def cluster():
    cluster = ScratchCluster()
    cluster.start()
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE pgdeck_jobs_restart")
    # The socket folder as the URL's host (percent-encoded) and a real port: pg_dump is given both.
    url = f"postgresql://postgres@{quote(str(cluster.dir), safe='')}:{cluster.port}/pgdeck_jobs_restart"
    cluster.env = {"DATABASE_URL": url, "DJANGO_DEBUG": "false",
                   "BACKUP_DIR": tempfile.mkdtemp(prefix="pgdeck-restart-backups-"), **FAST}
    manage("migrate", "--noinput", env=cluster.env, timeout=300)
    yield cluster
    cluster.stop("immediate")


def query(cluster, text, params=None):
    with psycopg.connect(cluster.url("pgdeck_jobs_restart"), autocommit=True) as conn:
        cursor = conn.execute(text, params)
        return cursor.fetchall() if cursor.description else None


def wait_for(cluster, text, predicate, params=None, moving=None, idle=120, cap=900):
    """Poll until predicate(rows). A liveness bound, not a timing assertion: it fails only when nothing has
    moved for `idle` seconds (neither the rows nor `moving()`, e.g. the worker's log, which grows with each
    retry while it waits for the database), so a slow, loaded machine only makes it wait longer; `cap` ends
    a test that keeps moving without ever getting there."""
    started = time.monotonic()
    last, last_change = None, started
    while True:
        rows = query_or_none(cluster, text, params)
        if rows is not None and predicate(rows):
            return rows
        state = (rows, moving() if moving else None)
        now = time.monotonic()
        if state != last:
            last, last_change = state, now
        assert now - last_change < idle and now - started < cap, \
            f"still {rows!r} (idle {now - last_change:.0f} s): {text}"
        time.sleep(0.2)


def query_or_none(cluster, text, params=None):
    """The rows, or None while the server is still starting (a loaded machine's slow start is not a failure)."""
    try:
        return query(cluster, text, params)
    except psycopg.OperationalError:
        return None


def shell_ids(cluster, code):
    out = manage("shell", "-c", code, env=cluster.env, timeout=600).stdout  # a loaded machine starts Django slowly
    return [int(pk) for pk in out.strip().splitlines()[-1].split(",")]


def statuses(cluster, ids):
    return dict(query(cluster, "SELECT status, count(*) FROM job_runs WHERE id = ANY(%s) GROUP BY status", (ids,)))


def test_jobs_queued_across_a_restart_run_once_after_it_on_the_same_worker(cluster):
    worker = Worker(cluster.env, "--concurrency", "2")
    try:
        before = shell_ids(cluster, ENQUEUE_NOW)
        wait_for(cluster, "SELECT count(*) FROM job_runs WHERE id = ANY(%s) AND status = 'succeeded'",
                 lambda rows: rows == [(5,)], params=(before,))
        held = shell_ids(cluster, ENQUEUE_HELD)
        assert statuses(cluster, held) == {"queued": 20}

        cluster.stop()
        time.sleep(5)  # down for longer than the worker's heartbeat and stalled timeouts (1 s / 3 s)
        assert worker.process.poll() is None, worker.output()
        cluster.start()

        query(cluster, "UPDATE procrastinate_jobs j SET scheduled_at = now() FROM job_runs r "
                       "WHERE r.queue_job_id = j.id AND r.id = ANY(%s)", (held,))
        after = shell_ids(cluster, ENQUEUE_NOW)  # deferred after the restart: a NOTIFY to the new listener
        ids = held + after
        try:
            wait_for(cluster, "SELECT count(*) FROM job_runs WHERE id = ANY(%s) AND status = 'succeeded'",
                     lambda rows: rows == [(25,)], params=(ids,), moving=lambda: len(worker.output()))
        except AssertionError:
            left = query(cluster, "SELECT r.id, r.status, r.log, j.status, j.scheduled_at, j.worker_id "
                                  "FROM job_runs r JOIN procrastinate_jobs j ON j.id = r.queue_job_id "
                                  "WHERE r.id = ANY(%s) AND r.status <> 'succeeded'", (ids,))
            raise AssertionError(f"not run: {left!r}\n{worker.output()}") from None
        assert statuses(cluster, ids) == {"succeeded": 25}
        started = query(cluster, "SELECT e.job_id, count(*) FROM procrastinate_events e JOIN job_runs r "
                                 "ON r.queue_job_id = e.job_id WHERE e.type = 'started' AND r.id = ANY(%s) "
                                 "GROUP BY e.job_id", (ids,))
        assert len(started) == 25 and {count for _job, count in started} == {1}
        logs = query(cluster, "SELECT log FROM job_runs WHERE id = ANY(%s)", (ids,))
        assert all(log.count("started on") == 1 for (log,) in logs)
        assert worker.process.poll() is None, worker.output()  # the same process resumed: no restart needed
        workers = query(cluster, "SELECT count(*) FROM procrastinate_workers")
        assert workers == [(1,)]
    finally:
        worker.stop()
    assert worker.process.returncode == 0, worker.output()


START_BACKUP = """
from dbtools.backups.jobs import backup_start
backup = backup_start(actor="restart-test")
print(f"{backup.jobrun.pk},{backup.pk},{backup.file}")
"""


def hold_pg_dump(worker, file, run_id, cluster, idle=120):
    """SIGSTOP pg_dump as soon as it runs and its .partial exists, so the restart lands mid-dump. Fails only
    when nothing moves for `idle` s (the job's row, the worker's log, its children): a loaded machine is slow."""
    last, last_change = None, time.monotonic()
    while not worker.children("pg_dump") or not os.path.exists(file + ".partial"):
        assert worker.process.poll() is None, worker.output()
        for proc in worker.children("pg_dump"):
            proc.send_signal(signal.SIGSTOP)
        state = (query(cluster, "SELECT status, log FROM job_runs WHERE id = %s", (run_id,)), len(worker.output()),
                 len(psutil.Process(worker.process.pid).children(recursive=True)))
        if state != last:
            last, last_change = state, time.monotonic()
        assert time.monotonic() - last_change < idle, f"no pg_dump after {idle} s idle: {state}\n{worker.output()}"
        time.sleep(0.05)


def test_a_backup_running_across_a_restart_ends_failed_once_with_nothing_half_written(cluster):
    query(cluster, "CREATE TABLE IF NOT EXISTS filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 200000) g")
    worker = Worker(cluster.env)
    try:
        out = manage("shell", "-c", START_BACKUP, env=cluster.env, timeout=600).stdout.strip().splitlines()[-1]
        run_id, backup_id, file = out.split(",", 2)
        hold_pg_dump(worker, file, int(run_id), cluster)
        for proc in worker.children("pg_dump"):
            proc.send_signal(signal.SIGSTOP)
        cluster.stop()
        for proc in worker.children("pg_dump"):
            proc.send_signal(signal.SIGCONT)  # its connection is gone: pg_dump fails, the job body with it
        time.sleep(3)
        cluster.start()
        try:
            rows = wait_for(cluster, "SELECT r.status, r.error, b.status FROM job_runs r JOIN backups b "
                                     "ON b.id = r.backup_id WHERE r.id = %s",
                            lambda rows: rows[0][0] not in ("queued", "running"), params=(int(run_id),),
                            moving=lambda: len(worker.output()))
        except AssertionError as exc:
            queue = query(cluster, "SELECT j.status, j.worker_id FROM procrastinate_jobs j JOIN job_runs r "
                                   "ON r.queue_job_id = j.id WHERE r.id = %s", (int(run_id),))
            children = [(p.pid, p.name(), p.status()) for p in psutil.Process(worker.process.pid).children(True)]
            raise AssertionError(f"{exc}\nqueue {queue} children {children}\n{worker.output()[-6000:]}") from None
        status, error, backup_status = rows[0]
        assert (status, backup_status) == ("failed", "failed"), rows
        assert error, rows
        assert not os.path.exists(file + ".partial") and not os.path.exists(file)
        queue = query(cluster, "SELECT j.status, (SELECT count(*) FROM procrastinate_events e WHERE e.job_id = j.id "
                               "AND e.type = 'started') FROM procrastinate_jobs j JOIN job_runs r "
                               "ON r.queue_job_id = j.id WHERE r.id = %s", (int(run_id),))
        assert queue == [("failed", 1)]  # ended once, never started again
        assert worker.process.poll() is None, worker.output()
        # and the worker still takes jobs
        after = shell_ids(cluster, ENQUEUE_NOW)
        wait_for(cluster, "SELECT count(*) FROM job_runs WHERE id = ANY(%s) AND status = 'succeeded'",
                 lambda rows: rows == [(5,)], params=(after,), moving=lambda: len(worker.output()))
    finally:
        worker.stop()


def test_right_after_a_restart_no_job_is_judged_stalled_before_live_workers_could_heartbeat(cluster):
    """After a restart every heartbeat is stale at once; the sweep waits until the server has been up long
    enough for a live worker (backing off up to resilience.MAX_BACKOFF) to write one. Here the job's worker is
    really gone, so it is failed, but only after that grace, measured on the database's own clock."""
    from jobs.resilience import MAX_BACKOFF

    grace = float(FAST["JOBS_STALLED_SECONDS"]) + MAX_BACKOFF + float(FAST["JOBS_HEARTBEAT_SECONDS"])
    run_id = shell_ids(cluster, ENQUEUE_HELD.replace("range(20)", "range(1)"))[0]
    gone = query(cluster, "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') "
                          "RETURNING id")[0][0]
    query(cluster, "UPDATE procrastinate_jobs j SET status = 'doing', worker_id = %s, scheduled_at = now() "
                   "FROM job_runs r WHERE r.queue_job_id = j.id AND r.id = %s", (gone, run_id))
    query(cluster, "UPDATE job_runs SET status = 'running', started_at = now() WHERE id = %s", (run_id,))
    cluster.stop()
    cluster.start()
    worker = Worker(cluster.env)
    try:
        rows = wait_for(cluster, "SELECT r.status, r.error, extract(epoch FROM r.finished_at - "
                                 "pg_postmaster_start_time()) FROM job_runs r WHERE r.id = %s",
                        lambda rows: rows[0][0] != "running", params=(run_id,), moving=lambda: len(worker.output()))
        status, error, after_start = rows[0]
        assert status == "failed" and "worker stopped responding" in error, rows
        assert after_start >= grace, f"failed {after_start:.1f} s after the server started (grace {grace:g} s)"
        assert worker.process.poll() is None, worker.output()
    finally:
        worker.stop()
