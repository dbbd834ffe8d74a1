"""What each kind of job does, given its JobRun and a Tracker. They call the existing public services."""

from django.core.exceptions import ObjectDoesNotExist

from core.audit import audit_record
from dbtools.backups import services as backups
from dbtools.backups.cli import human_size
from dbtools.monitoring import services as monitoring
from jobs.errors import JobError


def actor_of(run):
    """The user who started it, or (schedules, OS users) the name, which the services treat as trusted."""
    return run.user if run.user_id else run.started_by


def _backup_of(run):
    try:
        backup = run.backup
    except ObjectDoesNotExist:
        backup = None
    if backup is None:
        raise JobError(f"the backup row of job #{run.pk} is gone")
    return backup


def backup(run, tracker):
    row, params, actor = _backup_of(run), run.params, actor_of(run)
    tracker.log(f"pg_dump of {run.target} into {row.file}")
    backups.backup_run(row, actor=actor, schema_only=params.get("schema_only", False),
                       tables=params.get("tables", ()),
                       on_progress=lambda size: tracker.progress(f"{human_size(size)} written"))
    tracker.progress(f"{human_size(row.size or 0)} written", force=True)
    tracker.log(f"dump finished: {human_size(row.size or 0)}")
    result = {"backup": row.pk, "file": row.file, "size": row.size}
    if params.get("verify"):
        tracker.check_cancel()
        tracker.log("verifying in a scratch database")
        ok, detail = backups.backup_verify(actor=actor, backup=row)
        result["verify_ok"], result["verify_result"] = ok, detail
    if params.get("prune", True):
        pruned = backups.backups_prune(actor=actor, keep=params.get("keep"))
        result["pruned"] = [pk for pk, _file in pruned]
        if pruned:
            tracker.log(f"retention removed {len(pruned)} old backup(s)")
    return result


def verify(run, tracker):
    tracker.log("restoring into a scratch database and comparing row counts")
    ok, detail = backups.backup_verify(actor=actor_of(run), backup=_backup_of(run))
    tracker.log(detail)
    if not ok:
        raise JobError(f"verify failed: {detail}")
    return {"backup": run.backup_id, "verify_ok": ok, "verify_result": detail}


def restore(run, tracker):
    params = run.params
    tracker.log(f"restoring {params['path']} into {run.target}")
    db_target = params.get("target", "default")
    target = backups.backup_restore(actor=actor_of(run), path=params["path"],
                                    target=params.get("database", run.target), db_target=db_target,
                                    create=params.get("create", False), confirmed=params.get("confirmed", False),
                                    foreign=params.get("foreign", False))
    tracker.log(f"restored into {run.target}")
    return {"database": target, "target": db_target}


def collect_stats(run, tracker):
    snapshot = monitoring.stats_snapshot_create(largest_tables=run.params.get("tables", 20))
    pruned = monitoring.stats_snapshots_prune()
    tracker.log(f"snapshot {snapshot.pk}; pruned {pruned} old snapshot(s)")
    return {"snapshot": snapshot.pk, "pruned": pruned}


def retention(run, tracker):
    from jobs.export_retention import exports_prune

    pruned = backups.backups_prune(actor=actor_of(run), keep=run.params.get("keep"), days=run.params.get("days"))
    tracker.log(f"removed {len(pruned)} backup(s)")
    exports = exports_prune()
    tracker.log(f"removed {len(exports)} export file(s)")
    return {"pruned": [pk for pk, _file in pruned], "exports_pruned": exports}


def snapshot(run, tracker):
    from jobs.snapshots import snapshot_take

    schedule = run.schedule
    if schedule is None:
        raise JobError(f"the schedule of job #{run.pk} is gone")
    try:
        return snapshot_take(schedule, tracker)
    except JobError as exc:
        audit_record("schedule.failed", actor=actor_of(run), target=schedule.name, error=str(exc))
        raise


def export(run, tracker):
    from jobs.exports import export_body

    return export_body(run, tracker)


def noop(run, tracker):
    return {"ok": True}
