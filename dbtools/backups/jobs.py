"""Backups and verifies started from the admin or the API run as jobs on the task queue (jobs/, procrastinate),
so requests return at once and the work survives the web process: a worker (`manage.py worker`) runs it.

Progress and results live in the backups row (status, progress_bytes, verify_*), which pages and clients poll,
and in the job's JobRun row (who, progress, log tail, duration), which the Jobs screen shows.
"""

from django.db import transaction
from django.utils import timezone

from core.authorization import require_permission
from dbtools.backups import services
from dbtools.backups.errors import BackupError
from dbtools.models import Backup


def backup_start(*, actor, request=None, fmt="custom", schema_only=False, tables=(), encrypt=False, verify=False,
                 retry_of=None, target="default"):
    """Create the `running` row now (errors in the options are raised here) and queue the dump."""
    from jobs.starters import backup_job

    with transaction.atomic():  # the row and its queued job, or neither
        backup = services.backup_prepare(actor=actor, fmt=fmt, encrypt=encrypt, tables=tables, target=target)
        if verify:  # marked now, so a page that sees the dump finish keeps following the verify
            Backup.objects.filter(pk=backup.pk).update(verify_result="running")
            backup.verify_result = "running"
        backup.jobrun = backup_job(backup, actor=actor, schema_only=schema_only, tables=tables, verify=verify,
                                   retry_of=retry_of)
    return backup


def verify_start(backup, *, actor, request=None, retry_of=None):
    from jobs.starters import verify_job

    require_permission(actor, "dbtools.manage_backups")
    if backup.status != "success":
        raise BackupError(f"backup #{backup.pk} is {backup.status}: only a finished backup can be verified",
                          code="conflict", status=409)
    if verify_running(backup):
        raise BackupError(f"backup #{backup.pk} is already being verified", code="conflict", status=409)
    with transaction.atomic():
        Backup.objects.filter(pk=backup.pk).update(verify_result="running", verify_ok=None,
                                                   verified_at=timezone.now())
        return verify_job(backup, actor=actor, retry_of=retry_of)


def verify_running(backup):
    return backup.verify_ok is None and backup.verify_result == "running"


def wait_all(timeout=120):
    """Run the queued jobs here, in this thread and transaction (tests; production has `manage.py worker`)."""
    from jobs.inline import run_queued

    run_queued()


def restore_start(backup, *, actor, target, create=False, db_target="default"):
    """Queue the restore of a backup into database `target` of the registered target `db_target` (admin and
    API: confirmed by typing `target/database`); checked now, run by a worker."""
    from jobs.starters import restore_job

    return restore_job(actor=actor, path=backup.file, target=target, create=create, confirmed=True,
                       db_target=db_target, backup=backup)
