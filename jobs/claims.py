"""The gate of a job's body: one statement takes its JobRun from `queued` to `running`, so however often the queue
hands the job out (a retry, an operator's `procrastinate retry`, a second fetch), its body starts once per JobRun.

In a worker the claim is part of the fetch: `ClaimingJobManager.fetch_job` takes the next queue job and claims
its JobRun in one statement (FETCH_AND_CLAIM), and the task's thread finds the claimed row waiting for it, so a
body starts without a round trip of its own. Anywhere else (jobs.inline, a job fetched by procrastinate's own
fetch) the task's thread claims with CLAIM.

Plain SQL, not the ORM: the claim runs once per job on the worker's hot path, where every millisecond of Python
holds the GIL against procrastinate's own event loop (bench/jobs.py: throughput vs bare procrastinate)."""

import os
import socket

from django.db import connection, models
from django.utils import timezone
from procrastinate import jobs as queue_jobs
from procrastinate import manager
from procrastinate import sql as queue_sql
from psycopg import sql

from jobs.models import JobRun

FIELDS = JobRun._meta.concrete_fields
# The key, in a worker's JobContext.additional_context, of its table {queue job id: claimed JobRun values}.
FETCH_CLAIMS = "pgdeck_fetch_claims"


def _returning(prefix):
    """The JobRun's columns (jsonb as text: Django's connection and procrastinate's then hand back the same str,
    which JSONField decodes), named `<prefix><column>`."""
    columns = []
    for field in FIELDS:
        column = sql.Identifier("r", field.column)
        if isinstance(field, models.JSONField):
            column = sql.SQL("{}::text").format(column)
        columns.append(sql.SQL("{} AS {}").format(column, sql.Identifier(prefix + field.column)))
    return sql.SQL(", ").join(columns)


SET_RUNNING = "SET status = 'running', started_at = %(now)s, worker = %(label)s, log = %(log)s"
# The second arm matches this very claim again (same worker label and timestamp) when the first attempt
# committed but its reply was lost with the connection.
CLAIM = sql.SQL(
    "UPDATE job_runs r {set_running} WHERE r.id = %(run_id)s AND (r.status = 'queued' OR "
    "(r.status = 'running' AND r.worker = %(label)s AND r.started_at = %(now)s)) RETURNING {columns}"
).format(set_running=sql.SQL(SET_RUNNING), columns=_returning("")).as_string(None)
# procrastinate's own fetch (its SQL, so an upgrade of its fetch function is followed), and the claim of the
# fetched job's JobRun: both commit or neither. A job without a JobRun (procrastinate's periodic dispatch, the
# bench's bare task) or whose JobRun is not queued (cancelled, ended) comes back with NULL run columns.
FETCH_AND_CLAIM = sql.SQL(
    "WITH fetched AS MATERIALIZED ({fetch}), "
    "claimed AS (UPDATE job_runs r {set_running} FROM fetched "
    "WHERE r.queue_job_id = fetched.id AND r.status = 'queued' RETURNING {columns}) "
    "SELECT fetched.*, claimed.* FROM fetched LEFT JOIN claimed ON true"
).format(fetch=sql.SQL(queue_sql.queries["fetch_job"].strip().rstrip(";")),
         set_running=sql.SQL(SET_RUNNING), columns=_returning("run__")).as_string(None)


def worker_label(name):
    return f"{name or 'inline'} ({socket.gethostname()} pid {os.getpid()})"[:200]


def claim_params(name):
    label, now = worker_label(name), timezone.now()
    return {"now": now, "label": label, "log": f"{now:%H:%M:%S} started on {label}"}


def run_from_values(values):
    """A JobRun from its columns in FIELDS order, as either connection returns them."""
    values = [field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
              for field, value in zip(FIELDS, values, strict=True)]
    return JobRun.from_db(connection.alias, [f.attname for f in FIELDS], values)


def claim(run_id, params):
    """queued → running on this thread's Django connection (`params`: claim_params); None when the JobRun is not
    queued any more."""
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, {"run_id": run_id, **params})
        row = cursor.fetchone()
    return None if row is None else run_from_values(row)


def fetched_claim(context):
    """(found, JobRun or None): the claim the worker's fetch made for this job, if it made one."""
    claims = (getattr(context, "additional_context", None) or {}).get(FETCH_CLAIMS)
    job_id = getattr(getattr(context, "job", None), "id", None)
    if claims is None or job_id not in claims:
        return False, None
    return True, run_from_values(claims.pop(job_id))


class ClaimingJobManager(manager.JobManager):
    """procrastinate's job manager whose fetch also claims the fetched job's JobRun (FETCH_AND_CLAIM)."""

    def __init__(self, connector, *, worker_name, claims):
        super().__init__(connector)
        self.worker_name, self.claims = worker_name, claims

    async def fetch_job(self, queues, worker_id):
        row = await self.connector.execute_query_one_async(
            query=FETCH_AND_CLAIM, queues=queues, worker_id=worker_id, **claim_params(self.worker_name))
        if row["id"] is None:
            return None
        if row["run__id"] is not None:
            self.claims[row["id"]] = [row[f"run__{field.column}"] for field in FIELDS]
        return queue_jobs.Job.from_row(row)

