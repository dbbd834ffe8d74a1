"""Cron schedules: validation, a human-readable preview with the next run times, and the per-minute dispatch
(jobs.tasks.dispatch_schedules, a procrastinate periodic task: one worker wins each minute)."""

import logging
from datetime import UTC, datetime

from cron_descriptor import get_description
from croniter import croniter
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from jobs import starters
from jobs.errors import JobError
from jobs.models import Schedule

logger = logging.getLogger("pgdeck.jobs")


class CronError(ValueError):
    pass


def cron_check(expression):
    """The five-field expression, normalised; CronError with a one-line reason otherwise."""
    text = " ".join(str(expression or "").split())
    fields = text.split(" ") if text else []
    if len(fields) != 5:
        raise CronError(f"a cron schedule has five fields (minute hour day month weekday), not {len(fields)}")
    if not croniter.is_valid(text):
        raise CronError(f"{text!r} is not a valid cron schedule")
    return text


def cron_preview(expression, count=5, start=None):
    """(description, next `count` run times in UTC) for a valid expression."""
    text = cron_check(expression)
    try:
        description = get_description(text)
    except Exception:  # the describer knows fewer forms than croniter; the times are still right
        description = text
    it = croniter(text, start or timezone.now())
    return description, [it.get_next(datetime).astimezone(UTC) for _ in range(count)]


def is_due(schedule, now):
    base = schedule.last_run_at or schedule.created_at
    return croniter(schedule.cron, base).get_next(datetime) <= now


def schedule_start(schedule, *, actor=None):
    """Enqueue the job a schedule stands for; its target being gone is a failure with an audit event."""
    actor = actor or f"schedule:{schedule.name}"
    if schedule.kind == "backup":
        from dbtools.backups import jobs as backup_jobs

        backup = backup_jobs.backup_start(actor=actor, verify=False)
        run = backup.jobrun
        run.schedule = schedule
        run.params = {**run.params, "keep": schedule.keep_last}
        run.save(update_fields=["schedule", "params"])
        return run
    if schedule.kind == "collect_stats":
        return starters.collect_stats_job(actor=actor, schedule=schedule)
    return starters.snapshot_job(schedule, actor=actor)


def schedules_dispatch(now=None):
    """Start every enabled schedule that is due; missed runs (workers down) coalesce into one. Returns names."""
    now = now or timezone.now()
    started = []
    with transaction.atomic():
        for schedule in Schedule.objects.select_for_update(skip_locked=True).filter(enabled=True):
            if not is_due(schedule, now):
                continue
            schedule.last_run_at = now
            schedule.save(update_fields=["last_run_at"])
            try:
                with transaction.atomic():
                    schedule_start(schedule)
                started.append(schedule.name)
            except (JobError, PermissionError, ValueError, OSError) as exc:
                logger.warning("schedule %s could not start: %s", schedule.name, exc)
                audit_record("schedule.failed", actor=f"schedule:{schedule.name}", target=schedule.name,
                             error=str(exc))
    return started
