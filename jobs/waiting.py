"""Wait for a job from a command line (`manage.py dbrestore`): print its new log lines, return its final row.

A worker (`manage.py worker`) runs it when one is alive; without a live worker the command runs the queued
jobs of the job's queue itself, through procrastinate's fetch (jobs.inline), so locks still hold: a restore
whose target is being backed up by a worker waits for that backup."""

import time

from django.conf import settings
from django.db import connection

from jobs.models import JobRun

LIVE_WORKERS = ("SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - make_interval(secs => %s)")


def live_workers():
    with connection.cursor() as cursor:
        cursor.execute(LIVE_WORKERS, [settings.JOBS_STALLED_SECONDS])
        return cursor.fetchone()[0]


def job_wait(run, *, queue, on_line=None, poll=0.5):
    """Block until `run` has finished (succeeded, failed or cancelled); returns the fresh row."""
    from jobs.inline import run_queued

    printed = 0
    while True:
        run = JobRun.objects.get(pk=run.pk)
        lines = run.log.splitlines()
        if on_line is not None:
            for line in lines[printed:]:
                on_line(line)
            printed = len(lines)
        if run.status in JobRun.FINISHED:
            return run
        if run.status == "queued" and not live_workers() and run_queued(queues=[queue], limit=1):
            continue
        time.sleep(poll)
