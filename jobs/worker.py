"""The worker loop behind `manage.py worker`: procrastinate's worker plus a sweep for jobs of dead workers."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from procrastinate import jobs as queue_jobs

from jobs.resilience import MAX_BACKOFF, ResilientWorker

logger = logging.getLogger("pgdeck.jobs")


def _abandoned(job_id, reason):
    from jobs.recovery import run_abandoned

    try:
        return run_abandoned(job_id, reason)
    finally:
        connections.close_all()


# After a restart every worker's heartbeat is stale at once, and a live worker may still be backing off
# (resilience.MAX_BACKOFF): no job is judged stalled until the server has been up long enough for each live
# worker to have written a heartbeat again.
JUST_STARTED = ("SELECT now() - pg_postmaster_start_time() < make_interval(secs => %(grace)s) AS just_started")


async def _server_just_started(app):
    grace = settings.JOBS_STALLED_SECONDS + MAX_BACKOFF + settings.JOBS_HEARTBEAT_SECONDS
    row = await app.connector.execute_query_one_async(JUST_STARTED, grace=grace)
    return bool(row["just_started"])


async def sweep_once(app, own_worker_id=None):
    """Fail the stalled jobs (their worker stopped sending heartbeats); returns their queue ids.

    Never this worker's own jobs: after a database outage longer than JOBS_STALLED_SECONDS its own heartbeat
    looks stale too (or its worker row was pruned), yet its jobs are alive and will finish here."""
    from jobs.runner import RUNNING

    if await _server_just_started(app):
        return []
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOBS_STALLED_SECONDS)
    failed = []
    for job in stalled:
        if job.id in RUNNING or (own_worker_id is not None and job.worker_id == own_worker_id):
            continue
        reason = (f"its worker stopped responding (no heartbeat for {settings.JOBS_STALLED_SECONDS:g} s: "
                  "killed or its machine went away)")
        try:
            await app.job_manager.finish_job(job, queue_jobs.Status.FAILED, delete_job=False)
        except Exception as exc:  # another worker's sweep got there first
            logger.info("stalled job %s already handled: %s", job.id, exc)
            continue
        await sync_to_async(_abandoned, thread_sensitive=False)(job.id, reason)
        failed.append(job.id)
    return failed


async def _sweep_forever(app, worker):
    while True:
        try:
            await sweep_once(app, worker.worker_id)
        except Exception:  # a database restart: try again next round
            logger.exception("stalled-job sweep failed")
        await asyncio.sleep(settings.JOBS_SWEEP_SECONDS)


async def run_worker(app, **options):
    async with app.open_async():
        app.perform_import_paths()
        worker = ResilientWorker(app=app, update_heartbeat_interval=settings.JOBS_HEARTBEAT_SECONDS,
                        stalled_worker_timeout=settings.JOBS_STALLED_SECONDS, **options)
        sweeper = asyncio.create_task(_sweep_forever(app, worker))
        try:
            await worker.run()
        finally:
            sweeper.cancel()
