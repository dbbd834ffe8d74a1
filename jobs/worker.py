"""The worker loop behind `manage.py worker`: procrastinate's worker plus a sweep for jobs of dead workers."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from procrastinate import jobs as queue_jobs

from jobs.claims import worker_label
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


# A fetch whose commit reached the server but whose reply was lost with the connection (a restart at that
# instant) leaves a job `doing` on this worker, which never got it, and its JobRun claimed by this worker's label
# (jobs.claims: the fetch claims it) or still `queued` (a job fetched by procrastinate's own fetch). No body ever
# started: bodies run only in the worker the queue gave the job to, and only once its fetch returned. So both go
# back, the job to `todo` for any worker and its JobRun to `queued`; the claim keeps it to one run.
LOST_FETCHES = ("SELECT j.id FROM procrastinate_jobs j JOIN job_runs r ON r.queue_job_id = j.id "
                "WHERE j.status = 'doing' AND j.worker_id = %(worker_id)s "
                "AND (r.status = 'queued' OR (r.status = 'running' AND r.worker = %(label)s)) "
                "AND (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'started') "
                "< now() - make_interval(secs => %(after)s)")
REQUEUE = ("WITH job AS (UPDATE procrastinate_jobs SET status = 'todo', worker_id = NULL "
           "WHERE id = %(job_id)s AND status = 'doing' AND worker_id = %(worker_id)s RETURNING id) "
           "UPDATE job_runs r SET status = 'queued', started_at = NULL, worker = '', log = '' FROM job "
           "WHERE r.queue_job_id = job.id AND r.status = 'running' AND r.worker = %(label)s")


async def requeue_lost_fetches(app, worker):
    """Jobs the queue gives to this worker that it does not run: back to `todo`. Returns their ids.

    Only fetches older than JOBS_STALLED_SECONDS, checked against the worker's running jobs after the read: a
    job whose fetch reply is merely slow is registered by the fetch loop (without yielding) long before."""
    label = worker_label(worker.worker_name)
    rows = await app.connector.execute_query_all_async(LOST_FETCHES, worker_id=worker.worker_id, label=label,
                                                       after=settings.JOBS_STALLED_SECONDS)
    running = {context.job.id for context in worker._running_jobs.values()}
    lost = [row["id"] for row in rows if row["id"] not in running]
    for job_id in lost:
        await app.connector.execute_query_async(REQUEUE, job_id=job_id, worker_id=worker.worker_id, label=label)
        logger.warning("job %s was fetched for this worker but never reached it (reply lost): queued again", job_id)
    if lost:
        worker._new_job_event.set()
    return lost


async def _sweep_forever(app, worker):
    while True:
        try:
            await sweep_once(app, worker.worker_id)
            await requeue_lost_fetches(app, worker)
        except Exception:  # a database restart: try again next round
            logger.exception("stalled-job sweep failed")
        await asyncio.sleep(settings.JOBS_SWEEP_SECONDS)


async def run_worker(app, **options):
    async with app.open_async():
        app.perform_import_paths()
        worker = ResilientWorker(app=app, update_heartbeat_interval=settings.JOBS_HEARTBEAT_SECONDS,
                        stalled_worker_timeout=settings.JOBS_STALLED_SECONDS, **options)
        app.job_manager = worker.claiming_job_manager()  # this process's app serves only this worker
        sweeper = asyncio.create_task(_sweep_forever(app, worker))
        try:
            await worker.run()
        finally:
            sweeper.cancel()
