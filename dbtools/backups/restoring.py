"""Verify and restore: what a backup file is comes from its row (trust.py), its SQL runs only as the restore role
(restore_role.py) and only in a database made for it, and a restore over the live database is an event the app
survives (sessions ended, key caches emptied, the audit trail and the backup catalogue kept, one audit event
saying what was rolled back). One authorization, restore_authorize, serves the admin, the API and the commands.
"""

import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from psycopg import sql

from core.audit import audit_record
from core.authorization import require_permission
from dbtools.backups import catalog, replace, trust
from dbtools.backups.errors import BackupError
from dbtools.backups.restore import prescan, run_restore
from dbtools.backups.restore_role import create_owned_database, live_extensions, restore_login
from dbtools.backups.restore_targets import can_make_databases, check_versions, not_the_live_database
from dbtools.backups.services import backup_target, is_admin, target_database
from dbtools.backups.tools import (
    check_database_name,
    connect,
    database_exists,
    drop_database,
    live_database_name,
    select_tools,
    server_version_num,
)
from dbtools.models import AuditEvent, Backup
from dbtools.targeting import DEFAULT, is_default, target_name
from dbtools.targeting import where_on as where

# Live-database tables a restore leaves alone: the audit trail (a restore must not erase its own evidence) and
# the backup catalogue (it describes files on disk, made after the restore point too). Sessions are emptied.
# The audit trail, the backups list and the job queue stay the live database's own: the restore runs as a job,
# whose queue row and record must neither vanish nor come back as queued (it would run again).
KEEP_ON_LIVE = ("audit_events", "backups", "job_runs", "procrastinate_jobs", "procrastinate_events",
                "procrastinate_workers", "procrastinate_periodic_defers")
EMPTY_ON_LIVE = ("django_session",)
KEY_CACHE_CHANNEL = "pgdeck_api_key_auth"  # accounts/key_cache.py CHANNEL


def _existing(path):
    path = Path(path)
    if not path.exists():
        raise BackupError(f"backup file {path} does not exist", code="not_found", status=404)
    return path


@contextmanager
def _opened(path, facts):
    """The checked source (open file or directory path); the checksum is compared before anything else."""
    handle = trust.open_checked(path, facts)
    try:
        yield handle if handle is not None else path
    finally:
        if handle is not None:
            handle.close()


def _secret(facts):
    if facts.encrypted and not settings.BACKUP_ENCRYPTION_KEY:
        raise BackupError("this backup is encrypted: set BACKUP_ENCRYPTION_KEY to restore or verify it")
    return settings.BACKUP_ENCRYPTION_KEY if facts.encrypted else ""


def _restore_new(login, facts, source, dbname):
    """Create `dbname` owned by the restore role and restore into it; dropped again if anything fails. The client
    tools are chosen for the server of the login's target (not the app's): a backup of one target restores into
    another of an other version with tools new enough for both."""
    server = server_version_num(target=login.target)
    check_versions(facts.pg_dump_major, server, login.target)
    tools = select_tools(server, at_least=facts.pg_dump_major)
    if facts.extensions is not None:
        extensions = facts.extensions
    else:
        extensions = live_extensions(target_database(login.target), login.target)
    create_owned_database(dbname, login, extensions)
    try:
        run_restore(tools, source, facts.fmt, dbname, login=login, encrypted=facts.encrypted, secret=_secret(facts))
    except BaseException:
        drop_database(dbname, login.target)
        raise


def _scratch_name():
    return f"pgdeck_verify_{uuid.uuid4().hex[:12]}"


def backup_verify(*, actor, path=None, backup=None, request=None):
    """Restore into a scratch database, compare with the snapshot, drop it; returns (ok, result)."""
    require_permission(actor, "dbtools.manage_backups")
    if backup is None:
        path = _existing(path)
        backup = trust.row_for(path)
    path = Path(backup.file if backup else path)
    try:
        _existing(path)  # a row whose file is gone: a failed verify, recorded (not a job stuck at "running")
        facts = trust.facts_for(path, backup)
        if facts.tables is None:
            raise BackupError(f"no snapshot recorded for {path.name}: nothing to compare with")
        ok, result = _verify_in_scratch(path, facts)
    except BackupError as exc:
        ok, result = False, str(exc)
    if backup:
        fields = {"verified_at": timezone.now(), "verify_ok": ok, "verify_result": result}
        Backup.objects.filter(pk=backup.pk).update(**fields)
        for name, value in fields.items():
            setattr(backup, name, value)
    audit_record("backup.verify", actor=actor, request=request, target=str(path),
                 result="success" if ok else "failed", detail=result)
    return ok, result


def _verify_in_scratch(path, facts):
    with _opened(path, facts) as source:
        prescan(source, facts.fmt, facts.encrypted, _secret(facts))
        with restore_login() as login:
            scratch = _scratch_name()
            _restore_new(login, facts, source, scratch)
            try:
                with login.connect(scratch) as conn:
                    actual = catalog.row_counts(conn, catalog.table_list(conn))
                return catalog.compare(facts.tables, actual) if facts.tables is not None else (True, "ok")
            finally:
                drop_database(scratch)


def _has_rows(dbname):
    with connect(dbname) as conn:
        for schema, table in catalog.table_list(conn):
            query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.{})").format(sql.Identifier(schema), sql.Identifier(table))
            if conn.execute(query).fetchone()[0]:
                return True
    return False


def _recent_safety_backup(dbname, minutes):
    since = timezone.now() - timedelta(minutes=minutes)
    for backup in Backup.objects.filter(status="success", verify_ok=True, started_at__gte=since):
        snapshot = backup.snapshot or {}
        if (snapshot.get("database") == dbname and not snapshot.get("schema_only")
                and not snapshot.get("excluded_data") and not snapshot.get("table_selection")):
            return backup
    return None


def restore_authorize(actor, target, db_target=DEFAULT):
    """The one check before a restore, whatever the path: restore_backup, the `restore` capability on the
    registered target (targets grants); and over the app's live database holding rows, an admin and a full,
    verified backup of it newer than RESTORE_REQUIRES_VERIFIED_BACKUP_MINUTES."""
    require_permission(actor, "dbtools.restore_backup")
    db_target = backup_target(actor, db_target, "restore")
    if not is_default(db_target):
        not_the_live_database(db_target, target)
        can_make_databases(db_target)
        return
    if target != live_database_name() or not _has_rows(target):
        return
    if not is_admin(actor):
        raise PermissionError("restoring over the live database needs an admin")
    minutes = settings.RESTORE_REQUIRES_VERIFIED_BACKUP_MINUTES
    if minutes > 0 and _recent_safety_backup(target, minutes) is None:
        raise BackupError(f"restoring over the live database {target} needs a full backup of it, verified, made "
                          f"in the last {minutes} minutes (dbbackup --verify): none found",
                          code="no_recent_backup", status=409)


def restore_check(*, actor, path, target=None, create=False, confirmed=False, db_target=DEFAULT):
    """The cheap checks of a restore, also made when it is queued (a bad request is an error at once, not a
    failed job): target name, confirmation, the file, who may, target exists or not. Returns (path, target)."""
    require_permission(actor, "dbtools.restore_backup")
    db_target = backup_target(actor, db_target, "restore")
    target = check_database_name(target or target_database(db_target))
    if target == live_database_name() and is_default(db_target) and not confirmed:
        raise BackupError(f"restoring over the live database {target} replaces its data: confirm with --yes")
    if not is_default(db_target) and not create and not confirmed:
        raise BackupError(f"restoring over {where(db_target, target)} replaces its data: confirm with --yes")
    path = _existing(path)
    restore_authorize(actor, target, db_target)
    exists = database_exists(target, db_target)
    if create and exists:
        raise BackupError(f"database {where(db_target, target)} already exists; leave out --create to restore "
                          "into it")
    if not create and not exists:
        raise BackupError(f"database {where(db_target, target)} does not exist; add --create to create it")
    backup = trust.row_for(path)
    if backup is not None:
        check_versions((backup.snapshot or {}).get("pg_dump_major"), server_version_num(target=db_target), db_target)
    return path, target


def backup_restore(*, actor, path, target=None, create=False, confirmed=False, foreign=False, request=None,
                   db_target=DEFAULT):
    """Restore in one transaction; the live database needs `confirmed`; see restore_authorize for who may."""
    path, target = restore_check(actor=actor, path=path, target=target, create=create, confirmed=confirmed,
                                 db_target=db_target)
    db_target = target_name(db_target)
    live = is_default(db_target) and target == live_database_name()
    backup = trust.row_for(path)
    facts = trust.facts_for(path, backup, foreign=foreign)
    recorded = {"database": target, "db_target": db_target}
    try:
        with _opened(path, facts) as source:
            prescan(source, facts.fmt, facts.encrypted, _secret(facts))
            changes = _restore_checked(source, facts, target, create=create, live=live, db_target=db_target)
    except BaseException as exc:  # also Ctrl-C: the tool is killed, its transaction rolled back
        if not isinstance(exc, BackupError):
            raise
        message = f"restore into {where(db_target, target)} failed and was rolled back: {exc}"
        audit_record("backup.restore", actor=actor, request=request, target=str(path), result="failed",
                     error=message, **recorded)
        raise BackupError(message, code=exc.code, status=exc.status) from None
    if live:
        _after_live_restore(target)
    audit_record("backup.restore", actor=actor, request=request, target=str(path), result="success",
                 format=facts.fmt, origin=facts.origin, source_target=(backup.target if backup else None),
                 **recorded, **_summary(backup, changes, live))
    return target


def _restore_checked(source, facts, target, *, create, live, db_target=DEFAULT):
    with restore_login(db_target) as login:
        if create:
            _restore_new(login, facts, source, target)
            return None
        scratch = _scratch_name()
        _restore_new(login, facts, source, scratch)
        try:
            # Rows a non-admin's backup left out are not "no rows": the target keeps its own.
            keep = (KEEP_ON_LIVE if live else ()) + facts.excluded
            return replace.replace_rows(login, scratch, target, keep=keep, empty=EMPTY_ON_LIVE if live else ())
        finally:
            drop_database(scratch, db_target)


def _after_live_restore(dbname):
    """Every process's key cache empties (NOTIFY, as the key triggers do), this one's at once; cached sessions
    and other cached reads go too (with Redis, sessions live in the cache)."""
    with connect(dbname) as conn:
        conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(KEY_CACHE_CHANNEL)))
    from accounts.key_cache import key_cache

    key_cache.clear()
    for alias in settings.CACHES:
        caches[alias].clear()


def _summary(backup, changes, live):
    if changes is None:
        return {}
    rolled_back = {name: {"before": before, "after": after} for name, (before, after) in changes.items()
                   if before != after}
    details = {"rolled_back": rolled_back, "tables_replaced": len(changes)}
    if backup is not None:
        details.update(backup_id=backup.pk, backup_taken_at=backup.started_at.isoformat())
        if live:
            details["audit_events_kept_since_backup"] = AuditEvent.objects.filter(when__gte=backup.started_at).count()
    if live:
        details["sessions_ended"] = sum(before for name, (before, _after) in changes.items()
                                        if name.rsplit(".", 1)[-1] in EMPTY_ON_LIVE)
    return details
