"""How a task body runs inside a worker: its JobRun row goes running → succeeded / failed / cancelled, with
progress, the last log lines and a one-line error; a cancel request is noticed at each progress report."""

import logging
import os
import socket
import time
from collections import deque

from django.conf import settings
from django.utils import timezone
from procrastinate.exceptions import JobAborted

from jobs.models import JobRun

logger = logging.getLogger("pgdeck.jobs")
PROGRESS_EVERY = 1.0  # seconds between progress writes: a fast dump must not write a row per chunk


class Tracker:
    """Handed to a job body: `progress(text)`, `log(line)`, `check_cancel()`."""

    def __init__(self, run, context):
        self.run = run
        self.context = context
        self._lines = deque(run.log.splitlines(), maxlen=settings.JOBS_LOG_LINES)
        self._last_write = 0.0

    def check_cancel(self):
        if self.context is not None and self.context.should_abort():
            raise JobAborted(f"job #{self.run.pk} cancelled")

    def progress(self, text, *, force=False):
        self.check_cancel()
        now = time.monotonic()
        if force or now - self._last_write >= PROGRESS_EVERY:
            self._last_write = now
            JobRun.objects.filter(pk=self.run.pk).update(progress=str(text)[:200])

    def log(self, line):
        self._lines.append(f"{timezone.now():%H:%M:%S} {line}")
        JobRun.objects.filter(pk=self.run.pk).update(log="\n".join(self._lines))


def worker_label(context):
    name = getattr(context, "worker_name", None) or "inline"
    return f"{name} ({socket.gethostname()} pid {os.getpid()})"[:200]


def _claim(run_id, context):
    """queued → running; None when the row is gone or was cancelled before the worker got to it."""
    claimed = JobRun.objects.filter(pk=run_id, status="queued").update(
        status="running", started_at=timezone.now(), worker=worker_label(context))
    return JobRun.objects.select_related("user", "backup", "schedule").get(pk=run_id) if claimed else None


def _end(run, tracker, status, *, result=None, error=""):
    if error:
        tracker.log(f"{status}: {error}")
    JobRun.objects.filter(pk=run.pk).update(status=status, result=result, error=error[:2000],
                                            finished_at=timezone.now())


def one_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def tracked(body, run_id, context):
    """Run `body(run, tracker)` for JobRun `run_id`; re-raise failures so procrastinate records them too."""
    run = _claim(run_id, context)
    if run is None:
        logger.info("job run %s is not queued any more (cancelled?): skipped", run_id)
        return None
    tracker = Tracker(run, context)
    tracker.log(f"started on {run.worker}")
    try:
        result = body(run, tracker)
    except JobAborted:
        _end(run, tracker, "cancelled", error="cancelled while running")
        raise
    except Exception as exc:
        _end(run, tracker, "failed", error=one_line(exc))
        raise
    except BaseException as exc:  # the worker is being torn down: record it rather than leave `running`
        _end(run, tracker, "failed", error=f"interrupted ({exc.__class__.__name__})")
        raise
    _end(run, tracker, "succeeded", result=result)
    tracker.log("done")
    return result
