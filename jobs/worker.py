"""The worker loop behind `manage.py worker`: procrastinate's worker plus a sweep for jobs of dead workers."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from procrastinate import jobs as queue_jobs

logger = logging.getLogger("pgdeck.jobs")


def _abandoned(job_id, reason):
    from jobs.recovery import run_abandoned

    try:
        return run_abandoned(job_id, reason)
    finally:
        connections.close_all()


async def sweep_once(app):
    """Fail the stalled jobs (their worker stopped sending heartbeats); returns their queue ids."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOBS_STALLED_SECONDS)
    failed = []
    for job in stalled:
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


async def _sweep_forever(app):
    while True:
        try:
            await sweep_once(app)
        except Exception:  # a database restart: try again next round
            logger.exception("stalled-job sweep failed")
        await asyncio.sleep(settings.JOBS_SWEEP_SECONDS)


async def run_worker(app, **options):
    async with app.open_async():
        sweeper = asyncio.create_task(_sweep_forever(app))
        try:
            await app.run_worker_async(
                update_heartbeat_interval=settings.JOBS_HEARTBEAT_SECONDS,
                stalled_worker_timeout=settings.JOBS_STALLED_SECONDS, **options)
        finally:
            sweeper.cancel()
