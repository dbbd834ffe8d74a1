"""Jobs on real processes: `manage.py worker` subprocesses, gunicorn, SIGKILL. Issue 16's faults."""

import os
import signal
import time
from pathlib import Path

import psutil
import pytest
import requests

from jobs.runner import PROGRESS_EVERY
from tests.jobs.workers import Stack, Worker
from tests.servers import AppServer

pytestmark = pytest.mark.slow

ENQUEUE_NOOPS = """
from jobs.starters import noop_job
print(",".join(str(noop_job(actor="fault-test").pk) for _ in range(50)))
"""
BIG_TABLE = "CREATE TABLE IF NOT EXISTS filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 200000) g"


@pytest.fixture(scope="module")
def stack(django_db_blocker):
    stack = Stack(django_db_blocker)
    yield stack
    stack.drop()


@pytest.fixture
def workers(stack):
    started = []

    def start(*args, **env):
        worker = Worker({**stack.env, **env}, *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def api(server, key, method, path, **kwargs):
    return requests.request(method, f"{server.url}/api/v1{path}", headers={"Authorization": f"Bearer {key}"},
                            timeout=30, **kwargs)


def kill_tree(pid):
    """SIGKILL a process and its children (gunicorn's master and workers): the web node is gone at once."""
    parent = psutil.Process(pid)
    for proc in [parent, *parent.children(recursive=True)]:
        proc.send_signal(signal.SIGKILL)
    parent.wait(30)


def test_two_workers_fifty_jobs_each_runs_exactly_once(stack, workers):
    first, second = workers("--concurrency", "4"), workers("--concurrency", "4")
    ids = [int(pk) for pk in stack.shell(ENQUEUE_NOOPS).split(",")]
    assert len(ids) == 50
    rows = stack.wait_for("SELECT status, count(*) FROM job_runs WHERE id = ANY(%s) GROUP BY status",
                          lambda rows: dict(rows).get("succeeded") == 50, params=(ids,))
    assert dict(rows) == {"succeeded": 50}
    # procrastinate's event log: each job started once, by whichever worker fetched it.
    started = stack.query("SELECT e.job_id, count(*) FROM procrastinate_events e JOIN job_runs r "
                          "ON r.queue_job_id = e.job_id WHERE e.type = 'started' AND r.id = ANY(%s) "
                          "GROUP BY e.job_id", (ids,))
    assert len(started) == 50 and {count for _job, count in started} == {1}
    logs = stack.query("SELECT log FROM job_runs WHERE id = ANY(%s)", (ids,))
    assert all(log.count("started on") == 1 for (log,) in logs)
    assert first.process.poll() is None and second.process.poll() is None


def test_web_process_killed_during_a_backup_the_worker_finishes_it(stack, workers):
    stack.query(BIG_TABLE)
    workers()
    server = AppServer(stack.env, workers=1)
    try:
        response = api(server, stack.key, "POST", "/backups", json={"format": "custom"})
        assert response.status_code == 202, response.text
        backup_id = response.json()["id"]
    finally:
        kill_tree(server.process.pid)
    assert server.process.poll() is not None
    rows = stack.wait_for("SELECT b.status, r.status, b.file, b.error FROM backups b JOIN job_runs r "
                          "ON r.backup_id = b.id WHERE b.id = %s",
                          lambda rows: rows and rows[0][0] != "running" and rows[0][1] not in ("queued", "running"),
                          params=(backup_id,))
    backup_status, job_status, file, error = rows[0]
    assert (backup_status, job_status) == ("success", "succeeded"), error
    assert Path(file).is_file() and not Path(file + ".partial").exists()
    assert stack.query("SELECT count(*) FROM backups WHERE status = 'running'") == [(0,)]


def test_worker_killed_during_a_backup_fails_the_job_and_removes_the_partial(stack, workers):
    stack.query(BIG_TABLE)
    victim = workers()
    server = AppServer(stack.env, workers=1)
    try:
        response = api(server, stack.key, "POST", "/backups", json={"format": "custom"})
        assert response.status_code == 202, response.text
        backup_id, file = response.json()["id"], response.json()["file"]
        # Freeze pg_dump mid-stream so the kill lands during the dump, whatever the machine's speed.
        deadline = time.monotonic() + 120
        while not victim.children("pg_dump"):
            assert time.monotonic() < deadline and victim.process.poll() is None, victim.output()
            time.sleep(0.05)
        for proc in victim.children("pg_dump"):
            proc.send_signal(signal.SIGSTOP)
        stack.wait_for("SELECT status FROM job_runs WHERE backup_id = %s", lambda r: r == [("running",)],
                       params=(backup_id,))
        while not os.path.exists(file + ".partial"):
            assert time.monotonic() < deadline, "pg_dump started but its .partial never appeared"
            time.sleep(0.05)
        victim.kill()  # the worker and its pg_dump, as when its container or machine dies

        # Another worker notices the silent heartbeat and fails the job (bounded by JOBS_STALLED_SECONDS).
        workers()
        rows = stack.wait_for("SELECT r.status, r.error, b.status, b.error FROM job_runs r JOIN backups b "
                              "ON b.id = r.backup_id WHERE b.id = %s",
                              lambda rows: rows[0][0] == "failed" and rows[0][2] == "failed", params=(backup_id,))
        assert "worker stopped responding" in rows[0][1] and "worker stopped responding" in rows[0][3]
        assert not os.path.exists(file + ".partial") and not os.path.exists(file)
        queue_status = stack.query("SELECT j.status FROM procrastinate_jobs j JOIN job_runs r "
                                   "ON r.queue_job_id = j.id WHERE r.backup_id = %s", (backup_id,))
        assert queue_status == [("failed",)]
        download = api(server, stack.key, "GET", f"/backups/{backup_id}/download")
        assert download.status_code == 409 and download.json()["error"]["code"] == "not_available"
        assert stack.query("SELECT count(*) FROM audit_events WHERE action = 'job.abandoned'") == [(1,)]
    finally:
        server.stop()


ENQUEUE_TWO_BACKUPS = """
from dbtools.backups.jobs import backup_start
print(",".join(str(backup_start(actor="fault-test").jobrun.pk) for _ in range(2)))
"""


def test_two_backups_of_one_database_never_overlap_even_with_free_workers(stack, workers):
    stack.query(BIG_TABLE)
    workers("--concurrency", "2")
    workers("--concurrency", "2")
    ids = [int(pk) for pk in stack.shell(ENQUEUE_TWO_BACKUPS).split(",")]
    rows = stack.wait_for("SELECT status, started_at, finished_at FROM job_runs WHERE id = ANY(%s) ORDER BY id",
                          lambda rows: all(r[0] in ("succeeded", "failed") for r in rows), params=(ids,))
    assert [r[0] for r in rows] == ["succeeded", "succeeded"]
    (_s, first_start, first_end), (_t, second_start, _second_end) = rows
    assert first_end <= second_start, "the second dump started while the first was running"


def test_cancelling_a_running_backup_stops_it_marks_it_cancelled_and_removes_the_partial(stack, workers):
    stack.query(BIG_TABLE)
    worker = workers()
    server = AppServer(stack.env, workers=1)
    try:
        response = api(server, stack.key, "POST", "/backups", json={"format": "custom"})
        assert response.status_code == 202, response.text
        backup_id, file = response.json()["id"], response.json()["file"]
        # Hold pg_dump mid-stream, so the cancel lands while the job is running whatever the machine's speed.
        _hold_pg_dump(worker, file)
        run_id = stack.wait_for("SELECT id FROM job_runs WHERE backup_id = %s AND status = 'running'",
                                lambda rows: len(rows) == 1, params=(backup_id,))[0][0]
        cancel = api(server, stack.key, "POST", f"/jobs/{run_id}/cancel")
        assert cancel.status_code == 202 and cancel.json()["status"] == "running"  # asked; it stops itself
        assert stack.query("SELECT j.abort_requested FROM procrastinate_jobs j JOIN job_runs r "
                           "ON r.queue_job_id = j.id WHERE r.id = %s", (run_id,)) == [(True,)]
        # pg_dump stays frozen past one progress interval, so its next chunk writes the progress row, whose
        # statement reads the cancel request (jobs.runner.Tracker.progress): it stops there.
        time.sleep(PROGRESS_EVERY * 1.5)
        for proc in worker.children("pg_dump"):
            proc.send_signal(signal.SIGCONT)
        rows = stack.wait_for("SELECT r.status, r.error, b.status FROM job_runs r JOIN backups b "
                              "ON b.id = r.backup_id WHERE r.id = %s",
                              lambda rows: rows[0][0] != "running", params=(run_id,))
        assert rows[0][:2] == ("cancelled", "cancelled while running") and rows[0][2] == "failed", rows
        assert not os.path.exists(file + ".partial") and not os.path.exists(file)
        assert not worker.children("pg_dump")  # stopped, not left running
        queue = stack.query("SELECT j.status FROM procrastinate_jobs j JOIN job_runs r ON r.queue_job_id = j.id "
                            "WHERE r.id = %s", (run_id,))
        assert queue == [("aborted",)]
        download = api(server, stack.key, "GET", f"/backups/{backup_id}/download")
        assert download.status_code == 409
        assert worker.process.poll() is None  # the worker carries on with the next jobs
    finally:
        server.stop()


START_BACKUP = """
from dbtools.backups.jobs import backup_start
backup = backup_start(actor="fault-test")
print(f"{backup.jobrun.pk},{backup.pk},{backup.file}")
"""


def _hold_pg_dump(worker, file):
    """SIGSTOP pg_dump as soon as it runs and its .partial exists: the dump is certainly mid-way."""
    deadline = time.monotonic() + 120
    while not worker.children("pg_dump") or not os.path.exists(file + ".partial"):
        assert time.monotonic() < deadline and worker.process.poll() is None, worker.output()
        for proc in worker.children("pg_dump"):
            proc.send_signal(signal.SIGSTOP)
        time.sleep(0.05)
    for proc in worker.children("pg_dump"):
        proc.send_signal(signal.SIGSTOP)


def test_a_frozen_worker_whose_backup_was_failed_elsewhere_stops_it_on_resume_and_records_nothing(stack, workers):
    """The interleaving behind "a job started twice": worker A runs a backup and is frozen (SIGSTOP: a stalled VM,
    a long GC, a network cut) past JOBS_STALLED_SECONDS; worker B's sweep fails the job, removes the partial and
    releases the database lock. When A resumes, its body must stop at the next progress write, not finish the
    dump, overwrite the outcome or crash on procrastinate's "not in doing status"."""
    stack.query(BIG_TABLE)
    frozen = workers()
    run_id, backup_id, file = stack.shell(START_BACKUP).split(",", 2)
    _hold_pg_dump(frozen, file)
    stack.wait_for("SELECT status FROM job_runs WHERE id = %s", lambda r: r == [("running",)], params=(int(run_id),))
    frozen.process.send_signal(signal.SIGSTOP)  # the worker itself (pg_dump, its child, is held already)
    try:
        other = workers()
        rows = stack.wait_for("SELECT r.status, r.error, b.status FROM job_runs r JOIN backups b "
                              "ON b.id = r.backup_id WHERE r.id = %s",
                              lambda rows: rows[0][0] == "failed", params=(int(run_id),))
        assert "worker stopped responding" in rows[0][1] and rows[0][2] == "failed", rows
    finally:
        frozen.process.send_signal(signal.SIGCONT)
        for proc in frozen.children("pg_dump"):
            proc.send_signal(signal.SIGCONT)
    # A's body notices at its next progress write (its run is no longer `running`) and kills its pg_dump, or,
    # had the dump ended first, finds its outcome cannot be written: either way it says so and records nothing.
    deadline = time.monotonic() + 120
    while "was ended by another worker while it ran here" not in frozen.output():
        assert time.monotonic() < deadline and frozen.process.poll() is None, frozen.output()
        time.sleep(0.2)
    stack.wait_for("SELECT 1", lambda _rows: not frozen.children("pg_dump"))
    rows = stack.query("SELECT r.status, r.error, r.log, b.status, b.error FROM job_runs r JOIN backups b "
                       "ON b.id = r.backup_id WHERE r.id = %s", (int(run_id),))
    status, error, log, backup_status, backup_error = rows[0]
    assert (status, backup_status) == ("failed", "failed"), rows
    assert "worker stopped responding" in error and "worker stopped responding" in backup_error, rows
    assert log.count("started on") == 1 and log.count("failed:") == 1, log
    assert not os.path.exists(file + ".partial") and not os.path.exists(file)
    queue = stack.query("SELECT j.status, (SELECT count(*) FROM procrastinate_events e WHERE e.job_id = j.id "
                        "AND e.type = 'started') FROM procrastinate_jobs j JOIN job_runs r "
                        "ON r.queue_job_id = j.id WHERE r.id = %s", (int(run_id),))
    assert queue == [("failed", 1)]
    assert stack.query("SELECT count(*) FROM audit_events WHERE action = 'job.abandoned' AND target = %s",
                       (f"job #{run_id}",)) == [(1,)]
    # Both workers carry on: with B stopped, A alone still runs new jobs.
    other.stop()
    assert frozen.process.poll() is None, frozen.output()
    ids = [int(pk) for pk in stack.shell(ENQUEUE_NOOPS).split(",")]
    stack.wait_for("SELECT count(*) FROM job_runs WHERE id = ANY(%s) AND status = 'succeeded'",
                   lambda rows: rows == [(50,)], params=(ids,))
    assert frozen.process.poll() is None, frozen.output()
