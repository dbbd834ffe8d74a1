"""Writes for backups: create, verify, restore, delete, prune. Commands, admin and API all call these.

`actor` is a pgdeck User, or a string naming an operating-system user running manage.py without --user (who
already holds the database credentials, so is treated as an admin; see docs/backups.md).
"""

import logging
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from core.audit import audit_record
from dbtools.backups import catalog, files
from dbtools.backups.dump import DumpPlan, run_dump
from dbtools.backups.errors import BackupError
from dbtools.backups.restore import describe, run_restore
from dbtools.backups.tools import (
    check_database_name,
    connect,
    create_database,
    database_exists,
    drop_database,
    live_database_name,
    select_tools,
    server_version_num,
)
from dbtools.models import Backup

logger = logging.getLogger("pgdeck.backups")
FORMATS = ("custom", "plain", "directory")


def require_permission(actor, perm):
    if isinstance(actor, str):
        return
    if actor is None or not actor.is_active or not actor.has_perm(perm):
        name = getattr(actor, "username", "anonymous")
        raise PermissionError(f"{name} may not do this: it needs the permission {perm}")


def _user(actor):
    return None if isinstance(actor, str) else actor


def backup_prepare(*, actor, fmt="custom", output=None, encrypt=False, dbname=None):
    """Validate the options and create the `running` row (its file name is final; the dump writes .partial)."""
    require_permission(actor, "dbtools.manage_backups")
    if fmt not in FORMATS:
        raise BackupError(f"unknown format {fmt!r}: choose custom, plain or directory")
    if encrypt and not settings.BACKUP_ENCRYPTION_KEY:
        raise BackupError("--encrypt needs BACKUP_ENCRYPTION_KEY to be set")
    if encrypt and fmt == "directory":
        raise BackupError("encryption is streamed and needs --format custom or plain, not directory")
    dbname = check_database_name(dbname or live_database_name())
    path = files.final_path(dbname, fmt, encrypt, output)
    return Backup.objects.create(file=str(path), format=fmt, encrypted=encrypt, user=_user(actor),
                                 status="running", snapshot={"database": dbname})


def backup_run(backup, *, actor, schema_only=False, tables=(), on_progress=None, request=None):
    """Run the dump for a prepared row; the row ends `success` or `failed` (with the one-line error)."""
    def progress(size):
        Backup.objects.filter(pk=backup.pk).update(progress_bytes=size)
        if on_progress:
            on_progress(size)

    plan = DumpPlan(path=Path(backup.file), dbname=backup.snapshot.get("database") or live_database_name(),
                    fmt=backup.format, schema_only=schema_only, tables=list(tables or []),
                    secret=settings.BACKUP_ENCRYPTION_KEY if backup.encrypted else "",
                    lock_wait_ms=settings.BACKUP_LOCK_WAIT_TIMEOUT * 1000)
    try:
        result = run_dump(plan, on_progress=progress)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, BackupError) else f"interrupted ({exc.__class__.__name__})"
        _finish(backup, status="failed", error=message, verify_result="")
        audit_record("backup.create", actor=actor, request=request, target=backup.file, result="failed",
                     error=message)
        raise
    _finish(backup, status="success", size=result.size, checksum=result.checksum, snapshot=result.manifest,
            progress_bytes=result.size)
    audit_record("backup.create", actor=actor, request=request, target=backup.file, result="success",
                 format=backup.format, size=result.size, encrypted=backup.encrypted)
    return backup


def _finish(backup, **fields):
    fields["finished_at"] = timezone.now()
    for name, value in fields.items():
        setattr(backup, name, value)
    Backup.objects.filter(pk=backup.pk).update(**fields)


def backup_create(*, actor, fmt="custom", output=None, schema_only=False, tables=(), encrypt=False, dbname=None,
                  on_progress=None, request=None):
    backup = backup_prepare(actor=actor, fmt=fmt, output=output, encrypt=encrypt, dbname=dbname)
    return backup_run(backup, actor=actor, schema_only=schema_only, tables=tables, on_progress=on_progress,
                      request=request)


def _backup_for(path):
    return Backup.objects.filter(file=str(path)).first()


def check_checksum(path, backup=None):
    """Compare the file with its recorded SHA-256 (sidecar, else the backups row); BackupError if it differs."""
    expected = files.recorded_checksum(path) or (backup.checksum if backup else "")
    if not expected:
        raise BackupError(f"no checksum recorded for {path} (no {files.sidecar_path(path).name} and no backups row)")
    actual = files.checksum(path)
    if actual != expected:
        raise BackupError(f"checksum mismatch for {Path(path).name}: the file is corrupted or truncated "
                          f"(expected {expected[:12]}…, got {actual[:12]}…)")


def _existing(path):
    path = Path(path)
    if not path.exists():
        raise BackupError(f"backup file {path} does not exist")
    return path


def _tools_for(path):
    manifest = files.read_manifest(path)
    return select_tools(server_version_num(), at_least=manifest.get("pg_dump_major") or 0), manifest


def backup_verify(*, actor, path=None, backup=None, request=None):
    """Restore into a scratch database, compare with the snapshot, drop it; returns (ok, result)."""
    require_permission(actor, "dbtools.manage_backups")
    path = _existing(backup.file if backup else path)
    backup = backup or _backup_for(path)
    expected = files.read_manifest(path).get("tables")
    if expected is None and backup and backup.status == "success":
        expected = backup.snapshot.get("tables")
    if expected is None:
        raise BackupError(f"no snapshot for {path.name}: its manifest ({files.manifest_path(path).name}) is missing")
    try:
        check_checksum(path, backup)
        ok, result = _verify_in_scratch(path, expected)
    except BackupError as exc:
        ok, result = False, str(exc)
    if backup:
        _finish_verify(backup, ok, result)
    audit_record("backup.verify", actor=actor, request=request, target=str(path),
                 result="success" if ok else "failed", detail=result)
    return ok, result


def _verify_in_scratch(path, expected):
    tools, _manifest = _tools_for(path)
    fmt, encrypted = describe(path)
    scratch = f"pgdeck_verify_{uuid.uuid4().hex[:12]}"
    create_database(scratch)
    try:
        run_restore(tools, path, fmt, scratch, encrypted=encrypted, secret=settings.BACKUP_ENCRYPTION_KEY,
                    clean=False)
        with connect(scratch) as conn:
            actual = catalog.row_counts(conn, catalog.table_list(conn))
        return catalog.compare(expected, actual)
    finally:
        drop_database(scratch)


def _finish_verify(backup, ok, result):
    fields = {"verified_at": timezone.now(), "verify_ok": ok, "verify_result": result}
    for name, value in fields.items():
        setattr(backup, name, value)
    Backup.objects.filter(pk=backup.pk).update(**fields)


def backup_restore(*, actor, path, target=None, create=False, confirmed=False, request=None):
    """Restore in one transaction; the live database needs `confirmed`; only restore_backup holders may."""
    require_permission(actor, "dbtools.restore_backup")
    target = check_database_name(target or live_database_name())
    if target == live_database_name() and not confirmed:
        raise BackupError(f"restoring over the live database {target} replaces its data: confirm with --yes")
    path = _existing(path)
    check_checksum(path, _backup_for(path))
    fmt, encrypted = describe(path)
    if encrypted and not settings.BACKUP_ENCRYPTION_KEY:
        raise BackupError(f"{path.name} is encrypted: set BACKUP_ENCRYPTION_KEY to restore it")
    tools, _manifest = _tools_for(path)
    exists = database_exists(target)
    if create and exists:
        raise BackupError(f"database {target} already exists; leave out --create to restore into it")
    if not create and not exists:
        raise BackupError(f"database {target} does not exist; add --create to create it")
    if create:
        create_database(target)
    try:
        run_restore(tools, path, fmt, target, encrypted=encrypted, secret=settings.BACKUP_ENCRYPTION_KEY,
                    clean=exists)
    except BaseException as exc:  # also Ctrl-C: the tool is killed, its transaction rolled back
        if create:
            drop_database(target)
        if not isinstance(exc, BackupError):
            raise
        message = f"restore into {target} failed and was rolled back: {exc}"
        audit_record("backup.restore", actor=actor, request=request, target=str(path), database=target,
                     result="failed", error=message)
        raise BackupError(message) from None
    audit_record("backup.restore", actor=actor, request=request, target=str(path), database=target,
                 result="success", format=fmt)
    return target


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
