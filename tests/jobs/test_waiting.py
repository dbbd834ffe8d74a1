"""`manage.py dbrestore` waits for its restore job (jobs.waiting): only a live worker of the job's queue counts,
and every wait is bounded; and a worker's own view of which jobs it runs (a lost fetch reply). Real `manage.py`
subprocesses against a throw-away migrated database."""

import re
import socket
import subprocess
import uuid

import pytest

from tests.jobs.workers import Stack, Worker
from tests.servers import manage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(django_db_blocker):
    stack = Stack(django_db_blocker)
    out = manage("dbbackup", env=stack.env, timeout=300).stdout
    stack.backup_file = re.search(r"backup #\d+: writing (\S+)", out).group(1)
    stack.targets = []
    yield stack
    for name in stack.targets:
        stack.query(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    stack.drop()


def fresh_target(stack):
    name = f"pgdeck_jobs_restored_{uuid.uuid4().hex[:8]}"
    stack.targets.append(name)
    return name


def dbrestore(stack, target):
    try:
        return manage("dbrestore", stack.backup_file, "--target-db", target, "--create", env=stack.env,
                      timeout=300, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError("dbrestore is still waiting after 300 s") from None


def test_a_worker_of_another_queue_does_not_count_the_command_runs_the_restore_itself(stack):
    worker = Worker(stack.env, "--queues", "default")
    try:
        # the worker is up and has recorded its queues
        stack.wait_for("SELECT count(*) FROM job_worker_queues q JOIN procrastinate_workers w ON w.id = q.worker_id "
                       "WHERE q.queues = ARRAY['default']::varchar[]", lambda rows: rows == [(1,)])
        target = fresh_target(stack)
        result = dbrestore(stack, target)
        assert result.returncode == 0, result.stderr + result.stdout
        assert f"into database {target}" in result.stdout
        rows = stack.query("SELECT status, worker FROM job_runs WHERE kind = 'restore' AND target = %s", (target,))
        assert rows[0][0] == "succeeded" and rows[0][1].startswith("inline"), rows  # run here, not by the worker
        assert worker.process.poll() is None, worker.output()
    finally:
        worker.stop()
    assert stack.query("SELECT count(*) FROM job_worker_queues") == [(0,)]  # gone with its worker's row


def test_a_restore_behind_the_lock_of_a_dead_workers_job_fails_the_wait_with_one_line(stack):
    target = fresh_target(stack)
    dead = stack.query("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') "
                       "RETURNING id")[0][0]
    stack.query("INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status, worker_id) "
                "VALUES ('backups', 'pgdeck.noop', %s, '{}', 'doing', %s)", (f"database:{target}", dead))
    result = dbrestore(stack, target)
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and "is still queued: no worker serves queue 'backups'" in message[0], message
    assert "start `manage.py worker`" in message[0]
    rows = stack.query("SELECT status FROM job_runs WHERE kind = 'restore' AND target = %s", (target,))
    assert rows == [("queued",)]  # left for a worker, not half-run


HOLD_ONE = """
from django.db import connection, transaction
from jobs.starters import noop_job
with transaction.atomic(), connection.cursor() as cursor:
    run = noop_job(actor="lost-fetch-test")
    cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() + interval '1 hour' WHERE id = %s",
                   [run.queue_job_id])
print(run.pk)
"""


# What a fetch commits for this worker: procrastinate's fetch alone (the job `doing`), or pgdeck's worker fetch,
# which also claims the JobRun with the worker's label (jobs.claims.FETCH_AND_CLAIM).
LOST_FETCHES = {
    "queue row only": "",
    "queue row and JobRun claim": (
        "UPDATE job_runs SET status = 'running', started_at = now(), worker = %(label)s::text, "
        "log = '00:00:00 started on ' || %(label)s::text WHERE id = %(run_id)s"),
}


@pytest.mark.parametrize("claim", LOST_FETCHES.values(), ids=LOST_FETCHES.keys())
def test_a_job_fetched_for_a_worker_whose_reply_was_lost_runs_once_after_all(stack, claim):
    """A fetch whose commit reached the server but whose reply died with the connection (a restart at that
    instant) leaves the job `doing` on a worker that never got it; that worker queues it again."""
    worker = Worker(stack.env)
    try:
        worker_id = stack.wait_for("SELECT worker_id FROM job_worker_queues", lambda rows: len(rows) == 1)[0][0]
        run_id = int(stack.shell(HOLD_ONE))
        host = socket.gethostname()
        label = f"{host}:{worker.process.pid} ({host} pid {worker.process.pid})"
        # what the fetch commits, without the worker ever hearing of it
        stack.query("UPDATE procrastinate_jobs j SET status = 'doing', worker_id = %s, scheduled_at = now() "
                    "FROM job_runs r WHERE r.queue_job_id = j.id AND r.id = %s", (worker_id, run_id))
        if claim:
            stack.query(claim, {"label": label, "run_id": run_id})
        rows = stack.wait_for("SELECT status, log, worker FROM job_runs WHERE id = %s",
                              lambda rows: rows[0][0] not in ("queued", "running"), params=(run_id,))
        assert rows[0][0] == "succeeded" and rows[0][1].count("started on") == 1, rows
        assert rows[0][2] == label, rows
        assert "never reached it (reply lost): queued again" in worker.output()
        assert worker.process.poll() is None, worker.output()
    finally:
        worker.stop()
