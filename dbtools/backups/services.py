"""Writes for backups: create, verify, restore, delete, prune. Commands, admin and API all call these.

`actor` is a pgdeck User, or a string naming an operating-system user running manage.py without --user (who
already holds the database credentials, so is treated as an admin; see docs/backups.md).
"""

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from core.audit import audit_record
from core.authorization import require_permission
from dbtools.backups import catalog, files
from dbtools.backups.dump import DumpPlan, run_dump
from dbtools.backups.errors import BackupError
from dbtools.backups.tools import check_database_name, connect, live_database_name
from dbtools.models import Backup
from dbtools.targeting import DEFAULT, TARGET_ERROR_TYPES, authorize, is_default, target_error
from targets import seam

logger = logging.getLogger("pgdeck.backups")
FORMATS = ("custom", "plain", "directory")


def _user(actor):
    return None if isinstance(actor, str) else actor


def is_admin(actor):
    """Who may hold private data (sessions, password and key hashes, the audit trail): those who may restore."""
    return isinstance(actor, str) or bool(actor and actor.is_active and actor.has_perm("dbtools.restore_backup"))


def check_tables(actor, dbname, tables, target="default"):
    """Before any row or file exists: the database answers, each name is one of its own tables (what a full
    backup holds), and a non-admin names no private table."""
    with connect(dbname, target=target) as conn:
        resolved = catalog.resolve_tables(conn, tables) if tables else []
        private = set(catalog.private_tables(conn, catalog.table_list(conn)))
    if not is_admin(actor):
        named = [catalog.qualified(*t) for t in resolved if t in private]
        if named:
            raise BackupError(f"table {named[0]} holds private data (sessions, password or key hashes, audit): "
                              "only an admin may back up its rows", code="private_table", status=403)
    return resolved


def backup_target(actor, target, capability="backup"):
    """The checked target name (the actor may back up / restore it), or a BackupError with the target's code."""
    try:
        return authorize(actor, target, capability)
    except TARGET_ERROR_TYPES as exc:
        status, code, message = target_error(exc)
        raise BackupError(message, code=code, status=status) from None


def target_database(target):
    """The database a backup of `target` dumps by default: the target's own."""
    if is_default(target):
        return live_database_name()
    try:
        return seam.spec(target).dbname
    except TARGET_ERROR_TYPES as exc:
        status, code, message = target_error(exc)
        raise BackupError(message, code=code, status=status) from None


def backup_prepare(*, actor, fmt="custom", output=None, encrypt=False, dbname=None, tables=(), target=DEFAULT):
    """Validate the options and create the `running` row (its file name is final; the dump writes .partial)."""
    require_permission(actor, "dbtools.manage_backups")
    target = backup_target(actor, target)
    if fmt not in FORMATS:
        raise BackupError(f"unknown format {fmt!r}: choose custom, plain or directory")
    if encrypt and not settings.BACKUP_ENCRYPTION_KEY:
        raise BackupError("--encrypt needs BACKUP_ENCRYPTION_KEY to be set")
    if encrypt and fmt == "directory":
        raise BackupError("encryption is streamed and needs --format custom or plain, not directory")
    dbname = check_database_name(dbname or target_database(target))
    check_tables(actor, dbname, list(tables or []), target)
    path = files.final_path(dbname if is_default(target) else f"{target}-{dbname}", fmt, encrypt, output)
    return Backup.objects.create(file=str(path), format=fmt, encrypted=encrypt, user=_user(actor),
                                 status="running", snapshot={"database": dbname, "target": target}, target=target)


def backup_run(backup, *, actor, schema_only=False, tables=(), on_progress=None, request=None):
    """Run the dump for a prepared row; the row ends `success` or `failed` (with the one-line error)."""
    def progress(size):
        Backup.objects.filter(pk=backup.pk).update(progress_bytes=size)
        if on_progress:
            on_progress(size)

    plan = DumpPlan(path=Path(backup.file), dbname=backup.snapshot.get("database") or live_database_name(),
                    fmt=backup.format, schema_only=schema_only, tables=list(tables or []),
                    secret=settings.BACKUP_ENCRYPTION_KEY if backup.encrypted else "",
                    lock_wait_ms=settings.BACKUP_LOCK_WAIT_TIMEOUT * 1000, with_private=is_admin(actor),
                    target=backup.target)
    try:
        result = run_dump(plan, on_progress=progress)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, BackupError) else f"interrupted ({exc.__class__.__name__})"
        if _finish(backup, status="failed", error=message, verify_result=""):
            audit_record("backup.create", actor=actor, request=request, target=backup.file, result="failed",
                         error=message, db_target=backup.target)
        raise
    if not _finish(backup, status="success", size=result.size, checksum=result.checksum, snapshot=result.manifest,
                   progress_bytes=result.size):
        # Failed meanwhile by a stalled-job sweep (this worker was frozen past JOBS_STALLED_SECONDS): a failed
        # row never offers a file, so the dump that finished anyway is removed.
        files.remove_backup_files(Path(backup.file))
        raise BackupError(f"backup #{backup.pk} was failed elsewhere while its dump ran here")
    audit_record("backup.create", actor=actor, request=request, target=backup.file, result="success",
                 format=backup.format, size=result.size, encrypted=backup.encrypted, db_target=backup.target)
    return backup


def _finish(backup, **fields):
    """The outcome of a `running` row; False (nothing written) when it was ended elsewhere meanwhile (the
    stalled-job sweep of another worker, jobs.recovery): that first outcome stands."""
    fields["finished_at"] = timezone.now()
    for name, value in fields.items():
        setattr(backup, name, value)
    return bool(Backup.objects.filter(pk=backup.pk, status="running").update(**fields))


def backup_create(*, actor, fmt="custom", output=None, schema_only=False, tables=(), encrypt=False, dbname=None,
                  on_progress=None, request=None, target=DEFAULT):
    backup = backup_prepare(actor=actor, fmt=fmt, output=output, encrypt=encrypt, dbname=dbname, tables=tables,
                            target=target)
    return backup_run(backup, actor=actor, schema_only=schema_only, tables=tables, on_progress=on_progress,
                      request=request)


STALE_AFTER = timedelta(minutes=15)


def is_stale(backup):
    """A `running` row whose process died (server restart, kill -9): its .partial has not grown for a while."""
    if backup.status != "running" or timezone.now() - backup.started_at < STALE_AFTER:
        return False
    partial = files.partial_path(Path(backup.file))
    if not partial.exists():
        return True
    newest = max([partial.stat().st_mtime] + [p.stat().st_mtime for p in partial.rglob("*")] if partial.is_dir()
                 else [partial.stat().st_mtime])
    return timezone.now().timestamp() - newest > STALE_AFTER.total_seconds()


def backup_delete(backup, *, actor, request=None):
    require_permission(actor, "dbtools.manage_backups")
    if backup.status == "running" and not is_stale(backup):
        raise BackupError(f"backup #{backup.pk} is still running")
    files.remove_backup_files(backup.file)
    target = backup.file
    backup.delete()
    audit_record("backup.delete", actor=actor, request=request, target=target, result="success")


def backups_prune(*, actor, keep=None, days=None, request=None):
    """Delete finished backups beyond the newest `keep` successful ones or older than `days`; returns (id, file)s."""
    days = settings.BACKUP_RETENTION_DAYS if days is None else days
    finished = list(Backup.objects.exclude(status="running").order_by("-started_at", "-pk"))
    doomed = set()
    if keep is not None:
        successes = [b for b in finished if b.status == "success"]
        if len(successes) > keep:
            cutoff = successes[keep - 1].started_at if keep > 0 else None
            doomed |= {b.pk for b in finished if cutoff is None or b.started_at < cutoff}
    if days and days > 0:
        limit = timezone.now() - timedelta(days=days)
        doomed |= {b.pk for b in finished if b.started_at < limit}
    pruned = [(b.pk, b.file) for b in finished if b.pk in doomed]
    for backup in (b for b in finished if b.pk in doomed):
        backup_delete(backup, actor=actor, request=request)
    return pruned


# Verify and restore live in restoring.py (the restore role, scratch databases, the live-database event);
# re-exported so every caller keeps using services.<entity>_<action>.
from dbtools.backups.restoring import backup_restore, backup_verify, restore_authorize, restore_check  # noqa: E402, F401
