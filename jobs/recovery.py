"""Jobs whose worker died (SIGKILL, OOM, machine gone): failed by any live worker, their leftovers removed.

procrastinate keeps a heartbeat per worker; a `doing` job whose worker has been silent for JOBS_STALLED_SECONDS
(or whose worker row was pruned) is stalled. The sweep marks it failed in the queue, then here: the JobRun
row `failed`, a backup row `failed` with its `.partial` file or folder removed (the final file only ever
appears by rename after a complete dump, so nothing half-written can be downloaded or restored), and a
verify marked failed.
"""

import logging
import shutil
from pathlib import Path

from django.utils import timezone

from core.audit import audit_record
from dbtools.backups import files
from dbtools.models import Backup
from jobs.models import JobRun

logger = logging.getLogger("pgdeck.jobs")


def _remove_partial(backup):
    partial = files.partial_path(Path(backup.file))
    if partial.is_dir():
        shutil.rmtree(partial, ignore_errors=True)
    elif partial.exists():
        partial.unlink(missing_ok=True)


def _abandon_backup(run, reason):
    backup = Backup.objects.filter(pk=run.backup_id).first()
    if backup is None:
        return
    if run.kind == "backup" and backup.status == "running":
        _remove_partial(backup)
        Backup.objects.filter(pk=backup.pk, status="running").update(
            status="failed", error=reason, finished_at=timezone.now(), verify_result="")
    elif run.kind != "restore" and backup.verify_ok is None and backup.verify_result == "running":
        Backup.objects.filter(pk=backup.pk).update(verify_ok=False, verify_result=reason,
                                                   verified_at=timezone.now())


def run_abandoned(queue_job_id, reason):
    """Record that the job `queue_job_id` died with its worker; returns the JobRun (or None)."""
    run = JobRun.objects.filter(queue_job_id=queue_job_id).first()
    if run is None:
        return None
    if run.backup_id:
        _abandon_backup(run, reason)
    updated = JobRun.objects.filter(pk=run.pk, status__in=("queued", "running")).update(
        status="failed", error=reason, finished_at=timezone.now(),
        log=(run.log + "\n" if run.log else "") + f"{timezone.now():%H:%M:%S} failed: {reason}")
    if updated:
        logger.warning("job #%s (%s) failed: %s", run.pk, run.kind, reason)
        audit_record("job.abandoned", actor="worker", target=f"job #{run.pk}", kind=run.kind, error=reason)
    return run
