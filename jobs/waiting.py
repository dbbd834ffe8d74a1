"""Wait for a job from a command line (`manage.py dbrestore`): print its new log lines, return its final row.

A worker (`manage.py worker`) runs it when a live one serves the job's queue (jobs.resilience records each
worker's queues in job_worker_queues); otherwise the command runs the queued jobs of that queue itself,
through procrastinate's fetch (jobs.inline), so locks still hold: a restore whose target is being backed up by
a worker waits for that backup.

Every wait is bounded: it carries on while something can move the job (a live worker of its queue for a queued
job, the live worker running it, or this command), and fails with a one-line JobError once nothing could for
`stuck_limit()` seconds (a queued job behind the lock of a job whose worker died with no worker left to fail
it; a running job whose worker died likewise; the database unreachable). The job itself is left as it is.
"""

import time

from django.conf import settings
from django.db import OperationalError, connection

from jobs.errors import JobError
from jobs.models import JobRun

LIVE_WORKERS = ("SELECT count(*) FROM procrastinate_workers w JOIN job_worker_queues q ON q.worker_id = w.id "
                "WHERE w.last_heartbeat > now() - make_interval(secs => %s) "
                "AND (q.queues IS NULL OR %s = ANY(q.queues))")
ITS_WORKER_ALIVE = ("SELECT coalesce(w.last_heartbeat > now() - make_interval(secs => %s), false) "
                    "FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id "
                    "WHERE j.id = %s")


def live_workers(queue):
    """Workers with a fresh heartbeat that serve `queue` (all queues, or a list holding it)."""
    with connection.cursor() as cursor:
        cursor.execute(LIVE_WORKERS, [settings.JOBS_STALLED_SECONDS, queue])
        return cursor.fetchone()[0]


def stuck_limit():
    """How long nothing may be able to move a job: a dead worker's job is failed by another worker's sweep
    within this (stalled timeout, two sweep rounds, the sweep's grace after a server start)."""
    from jobs.resilience import MAX_BACKOFF

    return (settings.JOBS_STALLED_SECONDS + 2 * settings.JOBS_SWEEP_SECONDS + MAX_BACKOFF
            + settings.JOBS_HEARTBEAT_SECONDS)


def _its_worker_alive(run):
    with connection.cursor() as cursor:
        cursor.execute(ITS_WORKER_ALIVE, [settings.JOBS_STALLED_SECONDS, run.queue_job_id])
        row = cursor.fetchone()
    return bool(row and row[0])


def _movable(run, queue):
    """Whether something can move the job now; a queued job nobody serves is run here (True when it was)."""
    from jobs.inline import run_queued

    if run.status == "queued":
        return bool(live_workers(queue) or run_queued(queues=[queue], limit=1))
    return _its_worker_alive(run)


def _stuck_error(run, queue, limit):
    if run is None or run.status == "queued":
        what = (f"queued: no worker serves queue {queue!r} and it cannot run here (it waits for the lock of a job "
                "whose worker stopped responding, or for the database)")
    else:
        what = "running, but its worker stopped responding and no worker has failed it"
    pk = run.pk if run is not None else "?"
    return JobError(f"job #{pk} is still {what} ({limit:g} s): start `manage.py worker`; the job is left as it is")


def job_wait(run, *, queue, on_line=None, poll=0.5):
    """Block until `run` has finished (succeeded, failed or cancelled); returns the fresh row. JobError when
    nothing could move it for stuck_limit() seconds."""
    printed, limit, stuck_since = 0, stuck_limit(), None
    while True:
        try:
            run = JobRun.objects.get(pk=run.pk)
            lines = run.log.splitlines()
            if on_line is not None:
                for line in lines[printed:]:
                    on_line(line)
                printed = len(lines)
            if run.status in JobRun.FINISHED:
                return run
            movable = _movable(run, queue)
        except OperationalError:  # the database is restarting: wait for it, within the same bound
            connection.close()
            movable = False
        now = time.monotonic()
        stuck_since = None if movable else (stuck_since or now)
        if stuck_since is not None and now - stuck_since > limit:
            raise _stuck_error(run, queue, limit)
        time.sleep(poll)
