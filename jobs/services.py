"""Writes for jobs: enqueue (a JobRun row and its procrastinate job in one transaction), cancel, retry.

Every long operation (backup, verify, restore, collect_stats, retention, snapshot) goes through `job_enqueue`;
a worker process (`manage.py worker`) runs it. The JobRun row is pgdeck's record (who, target, progress, log
tail, result, duration); procrastinate's own row is the queue entry (state, locks, heartbeat of its worker).
"""

from django.db import transaction
from django.utils import timezone
from procrastinate import exceptions as queue_errors
from procrastinate.contrib.django import app

from core.audit import audit_record
from core.authorization import actor_name, require_permission
from jobs.errors import JobError
from jobs.models import JobRun

TASK_NAMES = {kind: f"pgdeck.{kind}" for kind in JobRun.KINDS}


def job_enqueue(*, kind, actor, target="", params=None, backup=None, schedule=None, lock=None,
                queueing_lock=None, retry_of=None):
    """Create the `queued` row and defer its task; both or neither (one transaction)."""
    from jobs import tasks  # noqa: F401  (registers the tasks on the app, also in processes that only enqueue)

    try:
        with transaction.atomic():
            run = JobRun.objects.create(
                kind=kind, user=None if isinstance(actor, str) else actor, started_by=actor_name(actor)[:150],
                target=str(target)[:500], params=params or {}, backup=backup, schedule=schedule, retry_of=retry_of)
            task = app.tasks[TASK_NAMES[kind]]
            run.queue_job_id = task.configure(lock=lock, queueing_lock=queueing_lock).defer(run_id=run.pk)
            run.save(update_fields=["queue_job_id"])
    except queue_errors.AlreadyEnqueued:
        raise JobError(f"a {kind} job for {target or 'this target'} is already queued") from None
    return run


def job_cancel(run, *, actor, request=None):
    """A queued job never starts; a running one is asked to stop (it checks between steps) and ends `cancelled`."""
    require_permission(actor, "jobs.manage_jobs")
    if run.status in JobRun.FINISHED:
        raise JobError(f"job #{run.pk} is already {run.status}")
    if run.queue_job_id is None or not app.job_manager.cancel_job_by_id(run.queue_job_id, abort=True):
        raise JobError(f"job #{run.pk} can no longer be cancelled")
    # A queued job is cancelled now; a running one stays `running` until its worker stops it.
    JobRun.objects.filter(pk=run.pk, status="queued").update(status="cancelled", finished_at=timezone.now(),
                                                             error=f"cancelled by {actor_name(actor)}")
    audit_record("job.cancel", actor=actor, request=request, target=f"job #{run.pk}", kind=run.kind)
    run.refresh_from_db()
    return run


def job_retry(run, *, actor, request=None):
    """Start the same job again (a new JobRun pointing back at this one): only failed or cancelled jobs."""
    from jobs import starters

    require_permission(actor, "jobs.manage_jobs")
    if run.status not in ("failed", "cancelled"):
        raise JobError(f"job #{run.pk} is {run.status}: only a failed or cancelled job can be retried")
    new = starters.restart(run, actor=actor, request=request)
    audit_record("job.retry", actor=actor, request=request, target=f"job #{run.pk}", new_job=new.pk)
    return new
