"""A procrastinate worker that rides out a PostgreSQL restart and resumes by itself (issue 16).

procrastinate 3.10's worker stops as soon as one of its side tasks fails (the heartbeat, the LISTEN connection,
the periodic deferrer), and a failed fetch ends its loop: after a database restart it stopped taking jobs.
Here every database step is retried while the database is unreachable (psycopg's OperationalError: the
server shut down, is starting up, refuses connections, or the pool timed out), with a backoff; any other error
behaves as before. Queued jobs wait in the database meanwhile and each runs once after it is back:
`fetch_job` hands a job to exactly one worker, and nothing here fetches twice.

- heartbeat: `UPDATE … RETURNING`; when another worker pruned this one during a long outage it registers again;
- listener: reconnects, then wakes the fetch loop (notifications sent while it was away are lost; the fetch
  loop also polls every `fetch_job_polling_interval`);
- periodic deferrer and fetch loop: start again after the outage;
- a job's final state: written once the database is back; then, for a job that did not succeed (or whose
  end took a retry), a JobRun row still `running` (the task could not update it while the database was
  down) is failed with the reason, its partial backup file removed (jobs.recovery).
"""

import asyncio
import logging

import psycopg
from asgiref.sync import sync_to_async
from django.db import connections
from procrastinate import exceptions, jobs
from procrastinate.worker import Worker

from jobs.claims import FETCH_CLAIMS, ClaimingJobManager
from jobs.runner import DEFERRED_ENDS, FINISH_WITH_END, TAKEN_OVER

logger = logging.getLogger("pgdeck.jobs")
HEARTBEAT = "UPDATE procrastinate_workers SET last_heartbeat = now() WHERE id = %(worker_id)s RETURNING id"
RECORD_QUEUES = ("INSERT INTO job_worker_queues (worker_id, queues) VALUES (%(worker_id)s, %(queues)s::varchar[]) "
                 "ON CONFLICT (worker_id) DO UPDATE SET queues = EXCLUDED.queues")
QUEUE_STATUS = "SELECT status FROM procrastinate_jobs WHERE id = %(job_id)s"
INTERRUPTED = "interrupted: the database restarted (or was unreachable) while it ran"
MAX_BACKOFF = 10.0


def unreachable(exc):
    """A ConnectorException whose cause is a lost or refused connection (not a constraint or a raised error)."""
    return isinstance(exc, exceptions.ConnectorException) and isinstance(exc.__cause__, psycopg.OperationalError)


def _interrupted(job_id):
    from jobs.recovery import run_abandoned

    connections.close_all()  # this thread's connection may have died with the server
    try:
        return run_abandoned(job_id, INTERRUPTED)
    finally:
        connections.close_all()


class ResilientWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, additional_context={DEFERRED_ENDS: {}, FETCH_CLAIMS: {}}, **kwargs)
        self.outages = 0  # database errors ridden out (the log says which step)
        # JobRun outcomes handed over by the task threads (jobs.runner._end), written with the queue job's end.
        self.deferred_ends = self.additional_context[DEFERRED_ENDS]
        # JobRuns claimed by this worker's fetch (jobs.claims.ClaimingJobManager), taken by the task threads.
        self.fetch_claims = self.additional_context[FETCH_CLAIMS]

    def claiming_job_manager(self):
        """The job manager to run this worker with: procrastinate's, whose fetch also claims the JobRun."""
        return ClaimingJobManager(self.app.connector, worker_name=self.worker_name, claims=self.fetch_claims)

    async def _pause(self, attempt, step, exc):
        delay = min(0.5 * 2 ** attempt, MAX_BACKOFF)
        self.outages += 1
        logger.warning("%s: the database is unreachable (%s); retrying in %.1f s", step, exc.__cause__, delay)
        try:
            await asyncio.wait_for(self._stop_event.wait(), timeout=delay)
        except TimeoutError:
            pass

    async def _update_heartbeat(self):
        attempt = 0
        while True:
            await asyncio.sleep(self.update_heartbeat_interval if attempt == 0 else 0)
            try:
                rows = await self.app.connector.execute_query_all_async(HEARTBEAT, worker_id=self.worker_id)
                if not rows:  # pruned by another worker while this one could not send heartbeats
                    self.worker_id = await self.app.job_manager.register_worker()
                    await self._record_queues()
                    logger.warning("this worker's row was pruned during an outage: registered again as %s",
                                   self.worker_id)
                attempt = 0
            except exceptions.ConnectorException as exc:
                if not unreachable(exc):
                    raise
                await self._pause(attempt, "heartbeat", exc)
                attempt += 1

    async def _listen_forever(self):
        attempt = 0
        while True:
            try:
                await self.app.job_manager.listen_for_jobs(on_notification=self._handle_notification,
                                                           queues=self.queues)
                return
            except exceptions.ConnectorException as exc:
                if not unreachable(exc):
                    raise
                await self._pause(attempt, "listener", exc)
                attempt += 1
                self._new_job_event.set()  # fetch now: notifications sent meanwhile are lost

    async def _run_loop(self):
        await self._record_queues()  # registered just before (Worker.run)
        return await super()._run_loop()

    async def _record_queues(self):
        """Which queues this worker serves (jobs.waiting counts only workers of a job's queue). Without the row
        (a failure here) a waiting command runs the job itself: never worse than before."""
        try:
            await self.app.connector.execute_query_async(RECORD_QUEUES, worker_id=self.worker_id,
                                                         queues=self.queues or None)
        except exceptions.ConnectorException as exc:
            logger.warning("could not record this worker's queues: %s", exc.__cause__ or exc)

    async def _finish_with_end(self, job, status, end):
        """The queue job's end and its JobRun's outcome in one statement (jobs.runner.FINISH_WITH_END)."""
        delete_job = self.delete_jobs == jobs.DeleteJobCondition.ALWAYS or (
            self.delete_jobs == jobs.DeleteJobCondition.SUCCESSFUL and status == jobs.Status.SUCCEEDED)
        row = await self.app.connector.execute_query_one_async(
            FINISH_WITH_END, job_id=job.id, status=status.value, delete_job=delete_job, **end)
        if not row["recorded"]:
            logger.warning(TAKEN_OVER, end["run_id"], end["run_status"])
        self._job_ids_to_abort.pop(job.id, None)

    async def _ended_elsewhere(self, job_id):
        """True when the queue row is no longer `doing`: another worker's stalled-job sweep failed it while this
        worker was frozen or cut off (or a lost reply hid our own first write). Its first end stands; the worker
        carries on instead of dying on procrastinate's "not in doing status" error."""
        row = await self.app.connector.execute_query_one_async(QUEUE_STATUS, job_id=job_id)
        if row is None or row["status"] == "doing":
            return False
        logger.warning("job %s was already ended (%s) elsewhere: its end here is not recorded", job_id, row["status"])
        return True

    def _start_side_tasks(self):
        listen, self.listen_notify = self.listen_notify, False
        try:
            side_tasks = super()._start_side_tasks()
        finally:
            self.listen_notify = listen
        if listen:
            side_tasks.append(asyncio.create_task(self._listen_forever(), name="listener"))
        return side_tasks

    async def _periodic_deferrer(self):
        attempt = 0
        while True:
            try:
                return await super()._periodic_deferrer()
            except exceptions.ConnectorException as exc:
                if not unreachable(exc):
                    raise
                await self._pause(attempt, "periodic deferrer", exc)
                attempt += 1

    async def _fetch_and_process_jobs(self):
        try:
            await super()._fetch_and_process_jobs()
        except exceptions.ConnectorException as exc:
            if not unreachable(exc):
                raise
            await self._pause(0, "fetch", exc)
            self._new_job_event.set()

    async def _persist_job_status(self, job, status, retry_decision, context, job_result):
        end = self.deferred_ends.pop(job.id, None)
        # A claim no task took (the worker stopped first, the task failed before its body): the job did not
        # succeed, so its JobRun, `running`, is failed below (_interrupted), backup row and partial file first.
        self.fetch_claims.pop(job.id, None)
        attempt = 0
        while True:
            try:
                if end is None or retry_decision:
                    await super()._persist_job_status(job, status, retry_decision, context, job_result)
                else:
                    await self._finish_with_end(job, status, end)
                break
            except exceptions.ConnectorException as exc:
                if not unreachable(exc) and await self._ended_elsewhere(job.id):
                    return
                if not unreachable(exc) or (self._stop_event.is_set() and attempt >= 5):
                    raise
                await self._pause(attempt, f"recording the end of job {job.id}", exc)
                attempt += 1
        if attempt or status != jobs.Status.SUCCEEDED:
            # The task could not record its own end (its connection died with the server): fail its JobRun.
            # A no-op for a job that did record it (failed or cancelled rows are left as they are).
            await sync_to_async(_interrupted, thread_sensitive=False)(job.id)
