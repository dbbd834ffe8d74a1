"""Reads for jobs: lists for the Jobs screen and the API, and the dict both serve."""

from jobs.models import JobRun

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


def job_counts():
    counts = dict.fromkeys(JobRun.STATUSES, 0)
    for row in JobRun.objects.values_list("status", flat=True):
        counts[row] += 1
    return counts


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
