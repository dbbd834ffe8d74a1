"""Retention of query-export files (JOBS_EXPORT_RETENTION_HOURS after their job finished).

Run by the retention job and by the hourly `pgdeck.prune_exports` periodic task (jobs.tasks). The row stops
offering its file before the file goes, so a row never offers a missing file: a download after that is a 410
(jobs.exports.ExportGone). Files no row offers any more are removed too: the `.partial` of a job that is no
longer queued or running (its worker died mid-write), a final file whose row is gone, failed or pruned.
"""

import logging
import re
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jobs.exports import export_path
from jobs.models import JobRun

logger = logging.getLogger("pgdeck.jobs")
EXPORT_FILE = re.compile(r"^export-(\d+)\.\w+(\.partial)?$")


def _expire_rows(now):
    """Succeeded exports older than the retention: their rows stop offering the file. Returns their files."""
    cutoff = now - timedelta(hours=settings.JOBS_EXPORT_RETENTION_HOURS)
    due = list(JobRun.objects.filter(kind="export", status="succeeded", finished_at__lt=cutoff)
               .exclude(result__has_key="pruned_at").exclude(result__isnull=True))
    for run in due:
        JobRun.objects.filter(pk=run.pk).update(result={**run.result, "pruned_at": now.isoformat()})
    return [export_path(run) for run in due]


def _unoffered(folder):
    """Files in EXPORT_DIR that no live job writes and no row offers."""
    found = {}
    for path in folder.iterdir():
        match = EXPORT_FILE.match(path.name)
        if match and path.is_file():
            found.setdefault(int(match.group(1)), []).append((path, bool(match.group(2))))
    live = set(JobRun.objects.filter(pk__in=found, kind="export").filter(
        Q(status__in=("queued", "running")) | Q(status="succeeded", result__isnull=False)
        & ~Q(result__has_key="pruned_at")).values_list("pk", flat=True))
    running = set(JobRun.objects.filter(pk__in=found, status__in=("queued", "running")).values_list("pk", flat=True))
    doomed = []
    for pk, paths in found.items():
        for path, partial in paths:
            # a running job's .partial is being written; a succeeded job's final file is offered
            if (partial and pk not in running) or (not partial and pk not in live):
                doomed.append(path)
    return doomed


def exports_prune(now=None):
    """Apply JOBS_EXPORT_RETENTION_HOURS (0: keep forever); returns the names of the files removed."""
    if not settings.JOBS_EXPORT_RETENTION_HOURS:
        return []
    now = now or timezone.now()
    folder = Path(str(settings.EXPORT_DIR))
    expired = _expire_rows(now)
    if not folder.is_dir():
        return []
    removed = []
    for path in [*expired, *_unoffered(folder)]:
        if path.exists():
            path.unlink(missing_ok=True)
            removed.append(path.name)
    if removed:
        logger.info("export retention removed %s file(s)", len(removed))
    return sorted(set(removed))
