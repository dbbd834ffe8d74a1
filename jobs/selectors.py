"""Reads for jobs: lists for the Jobs screen and the API, and the dict both serve."""

from django.db import connection

from jobs.models import JobRun

# job_runs.status is not indexed (jobs.models: HOT updates); procrastinate's partial index on todo/doing jobs
# (procrastinate_jobs_id_lock_idx_v1) finds the active ones, and job_runs' unique queue_job_id their rows.
ACTIVE = ("SELECT EXISTS (SELECT FROM procrastinate_jobs j JOIN job_runs r ON r.queue_job_id = j.id "
          "WHERE j.status IN ('todo', 'doing') AND r.status IN ('queued', 'running'))")

STATUS_GROUPS = {"queued": ["queued"], "running": ["running"], "done": ["succeeded"],
                 "failed": ["failed", "cancelled"]}


def job_list(*, status=None, kind=None, limit=50, offset=0):
    rows = JobRun.objects.select_related("user").order_by("-created_at", "-pk")
    if status:
        rows = rows.filter(status__in=STATUS_GROUPS.get(status, [status]))
    if kind:
        rows = rows.filter(kind=kind)
    return rows, rows[offset:offset + limit]


def job_get(pk):
    return JobRun.objects.select_related("user").filter(pk=pk).first()


def jobs_active():
    """Whether any job is queued or running (the Jobs screen refreshes itself while one is)."""
    with connection.cursor() as cursor:
        cursor.execute(ACTIVE)
        return cursor.fetchone()[0]


def job_status(run):
    return {
        "id": run.pk, "kind": run.kind, "status": run.status, "started_by": run.started_by, "target": run.target,
        "progress": run.progress, "log": run.log.splitlines(), "result": run.result, "error": run.error,
        "worker": run.worker, "backup": run.backup_id, "schedule": run.schedule_id, "retry_of": run.retry_of_id,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": run.duration,
    }
