"""Backups and verifies started from the admin or the API run in a background thread, so requests return at once.

Progress and results live in the backups row (status, progress_bytes, verify_*), which pages and clients poll.
A process restart loses running threads; their rows stay `running` (see docs/backups.md).
"""

import logging
import threading

from django.db import connection
from django.utils import timezone

from dbtools.backups import services
from dbtools.backups.errors import BackupError
from dbtools.models import Backup

logger = logging.getLogger("pgdeck.backups")
_threads = []


def _run(target, *args, **kwargs):
    def body():
        try:
            target(*args, **kwargs)
        except (BackupError, PermissionError) as exc:
            logger.warning("background backup job failed: %s", exc)
        except Exception:
            logger.exception("background backup job crashed")
        finally:
            connection.close()  # this thread's own database connection

    thread = threading.Thread(target=body, daemon=True, name="pgdeck-backup")
    _threads.append(thread)
    thread.start()
    return thread


def backup_start(*, actor, request=None, fmt="custom", schema_only=False, tables=(), encrypt=False, verify=False):
    """Create the `running` row now (errors in the options are raised here) and dump in the background."""
    backup = services.backup_prepare(actor=actor, fmt=fmt, encrypt=encrypt, tables=tables)
    if verify:  # marked now, so a page that sees the dump finish keeps following the verify
        Backup.objects.filter(pk=backup.pk).update(verify_result="running")
        backup.verify_result = "running"

    def work():
        services.backup_run(backup, actor=actor, schema_only=schema_only, tables=tables, request=request)
        if verify:
            services.backup_verify(actor=actor, backup=backup, request=request)
        services.backups_prune(actor=actor, request=request)  # BACKUP_RETENTION_DAYS, as after dbbackup

    _run(work)
    return backup


def verify_start(backup, *, actor, request=None):
    services.require_permission(actor, "dbtools.manage_backups")
    if backup.status != "success":
        raise BackupError(f"backup #{backup.pk} is {backup.status}: only a finished backup can be verified",
                          code="conflict", status=409)
    if verify_running(backup):
        raise BackupError(f"backup #{backup.pk} is already being verified", code="conflict", status=409)
    Backup.objects.filter(pk=backup.pk).update(verify_result="running", verify_ok=None, verified_at=timezone.now())
    _run(services.backup_verify, actor=actor, backup=backup, request=request)


def verify_running(backup):
    return backup.verify_ok is None and backup.verify_result == "running"


def wait_all(timeout=120):
    """Join the background threads (tests and shutdown hooks)."""
    while _threads:
        _threads.pop().join(timeout)
