"""Start each kind of job: validate now (a bad request is an error at once), then enqueue with its locks.

Locks (procrastinate `lock`: jobs sharing one never run at the same time, in queue order):
- `database:<name>`: backups and restores of one database run one after the other, so two backups of the
  same database never overlap and a restore holds off every other job on its target.
- `backup:<id>`: a verify never overlaps another verify of the same file.
Queueing locks keep periodic work from piling up behind a stuck worker (one queued collect_stats at most).
"""

from core.authorization import require_permission
from dbtools.backups.tools import live_database_name
from jobs.errors import JobError
from jobs.services import job_enqueue


def database_lock(name):
    return f"database:{name}"


def backup_job(backup, *, actor, schema_only=False, tables=(), verify=False, keep=None, schedule=None,
               retry_of=None):
    """Enqueue the dump of a prepared (`running`) backups row."""
    dbname = backup.snapshot.get("database") or live_database_name()
    where = dbname if backup.target == "default" else f"{backup.target}/{dbname}"  # a registered target's database
    params = {"schema_only": schema_only, "tables": list(tables or []), "verify": verify, "keep": keep,
              "format": backup.format, "encrypt": backup.encrypted, "target": backup.target}
    return job_enqueue(kind="backup", actor=actor, target=where, params=params, backup=backup, schedule=schedule,
                       lock=database_lock(where), retry_of=retry_of)


def verify_job(backup, *, actor, retry_of=None):
    return job_enqueue(kind="verify", actor=actor, target=backup.file, backup=backup, lock=f"backup:{backup.pk}",
                       retry_of=retry_of)


def restore_job(*, actor, path, target=None, create=False, confirmed=False, foreign=False, retry_of=None,
                db_target="default", backup=None):
    """Checked now (backups.restore_check: who may, confirmation, file, target), restored by a worker; its
    `database:<target>` lock (`database:<registered target>/<db>` elsewhere, as its backups) holds off every
    backup, restore and export of that database until it ends."""
    from dbtools.backups.services import restore_check
    from dbtools.targeting import target_name
    from dbtools.targeting import where_on as where

    db_target = target_name(db_target)
    path, target = restore_check(actor=actor, path=path, target=target, create=create, confirmed=confirmed,
                                 db_target=db_target)
    params = {"path": str(path), "create": create, "confirmed": confirmed, "foreign": foreign,
              "database": target, "target": db_target}
    named = where(db_target, target)
    return job_enqueue(kind="restore", actor=actor, target=named, params=params, lock=database_lock(named),
                       retry_of=retry_of, backup=backup)


def collect_stats_job(*, actor, schedule=None, retry_of=None):
    return job_enqueue(kind="collect_stats", actor=actor, target="statistics", schedule=schedule,
                       queueing_lock="collect_stats", retry_of=retry_of)


def retention_job(*, actor, keep=None, days=None, schedule=None, retry_of=None):
    require_permission(actor, "dbtools.manage_backups")
    return job_enqueue(kind="retention", actor=actor, target="backups", params={"keep": keep, "days": days},
                       schedule=schedule, queueing_lock="retention", retry_of=retry_of)


def snapshot_job(schedule, *, actor, retry_of=None):
    target = schedule.saved_query.name if schedule.saved_query_id else "(saved query gone)"
    return job_enqueue(kind="snapshot", actor=actor, target=target, schedule=schedule,
                       queueing_lock=f"snapshot:{schedule.pk}", retry_of=retry_of)


def export_job(*, actor, sql_text, fmt="csv", params=None, retry_of=None):
    """A query export to a file (jobs.exports), as the user's own query role; it reads the live database, so a
    restore of it holds the export off (and the other way round)."""
    from dbtools.query.export import FORMATS

    if isinstance(actor, str):
        raise PermissionError("an export runs as a pgdeck user's query role: start it as a user")
    require_permission(actor, "dbtools.export_query")
    if fmt not in FORMATS:
        raise JobError(f"unknown export format {fmt!r}: use csv, json or ndjson")
    if not str(sql_text or "").strip():
        raise JobError("the export needs a SELECT statement")
    _check_storable({"sql": sql_text, "params": params or {}})
    dbname = live_database_name()
    return job_enqueue(kind="export", actor=actor, target=dbname, lock=database_lock(dbname), retry_of=retry_of,
                       params={"sql": sql_text, "format": fmt, "params": params or {}})


def _check_storable(value):
    """The job's params are a jsonb column: PostgreSQL refuses a NUL character anywhere in it (a parameter's name
    too, which no schema pattern covers), and a lone surrogate is not text. Refused here, before anything is queued."""
    for text in _strings(value):
        if "\x00" in text:
            raise JobError("the export's SQL and parameters (names and values) cannot contain a NUL character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise JobError("the export's SQL and parameters must be valid Unicode text") from None


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def noop_job(*, actor, retry_of=None):
    return job_enqueue(kind="noop", actor=actor, target="-", retry_of=retry_of)


def restart(run, *, actor, request=None):
    """The same job again, as a new JobRun (retry_of=run)."""
    from dbtools.backups import jobs as backup_jobs

    params, kind = run.params, run.kind
    if kind == "backup":
        return backup_jobs.backup_start(actor=actor, request=request, fmt=params.get("format", "custom"),
                                        schema_only=params.get("schema_only", False),
                                        tables=params.get("tables", ()), encrypt=params.get("encrypt", False),
                                        verify=params.get("verify", False), retry_of=run,
                                        target=params.get("target", "default")).jobrun
    if kind == "verify" and run.backup_id:
        return backup_jobs.verify_start(run.backup, actor=actor, request=request, retry_of=run)
    if kind == "restore":
        return restore_job(actor=actor, path=params["path"], target=params.get("database", run.target),
                           create=params.get("create", False), confirmed=params.get("confirmed", False),
                           foreign=params.get("foreign", False), retry_of=run,
                           db_target=params.get("target", "default"), backup=run.backup)
    if kind == "collect_stats":
        return collect_stats_job(actor=actor, retry_of=run)
    if kind == "retention":
        return retention_job(actor=actor, keep=params.get("keep"), days=params.get("days"), retry_of=run)
    if kind == "snapshot" and run.schedule_id:
        return snapshot_job(run.schedule, actor=actor, retry_of=run)
    if kind == "export":
        return export_job(actor=actor, sql_text=params["sql"], fmt=params["format"], params=params.get("params"),
                          retry_of=run)
    if kind == "noop":
        return noop_job(actor=actor, retry_of=run)
    raise JobError(f"job #{run.pk} cannot be retried: its {kind} target is gone")
