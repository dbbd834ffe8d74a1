"""Run queued jobs in the calling thread, through procrastinate's own SQL on the Django connection.

For tests that use Django's test transaction (a worker process would not see their uncommitted rows) and for
`manage.py run_jobs_once`-style maintenance. Production runs `manage.py worker`; the fault tests do too.
"""

import json
import time

from procrastinate import jobs as queue_jobs
from procrastinate import sql
from procrastinate.contrib.django import app
from procrastinate.job_context import JobContext


def run_queued(queues=None, limit=1000):
    """Fetch and run queued jobs one by one until none is left; returns how many ran."""
    from jobs import tasks  # noqa: F401  (the task registry)

    connector = app.connector.get_sync_connector()
    worker_id = connector.execute_query_one(sql.queries["register_worker"])["worker_id"]
    ran = 0
    try:
        while ran < limit:
            row = connector.execute_query_one(sql.queries["fetch_job"], queues=queues, worker_id=worker_id)
            if row["id"] is None:
                break
            ran += 1
            if isinstance(row["args"], str):  # Django's connection leaves jsonb as text for JSONField
                row = {**row, "args": json.loads(row["args"])}
            _run_one(connector, queue_jobs.Job.from_row(row))
    finally:
        connector.execute_query(sql.queries["unregister_worker"], worker_id=worker_id)
    return ran


def _run_one(connector, job):
    task = app.tasks[job.task_name]
    context = JobContext(app=app, job=job, worker_name="inline", start_timestamp=time.time(),
                         abort_reason=lambda: None)
    status = queue_jobs.Status.SUCCEEDED
    try:
        if task.pass_context:
            task.func(context, **job.task_kwargs)
        else:
            task.func(**job.task_kwargs)
    except Exception:
        status = queue_jobs.Status.FAILED  # the JobRun row already holds the one-line error
    connector.execute_query(sql.queries["finish_job"], job_id=job.id, status=status.value, delete_job=False)
