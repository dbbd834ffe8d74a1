"""How a task body runs inside a worker: its JobRun row goes running → succeeded / failed / cancelled, with
progress, the last log lines and a one-line error; a cancel request is noticed at each progress report."""

import logging
import time
from collections import deque

from django.conf import settings
from django.db import OperationalError, connection
from django.utils import timezone
from procrastinate.exceptions import JobAborted
from psycopg import sql
from psycopg.types.json import Jsonb

from jobs import claims
from jobs.models import JobRun

logger = logging.getLogger("pgdeck.jobs")
# Queue ids of the jobs running in this process: the stalled-job sweep never touches them (jobs/worker.py).
RUNNING = set()
PROGRESS_EVERY = 1.0  # seconds between progress writes: a fast dump must not write a row per chunk
# `status = 'running'` fences the body: a run failed meanwhile by another worker's stalled-job sweep (this one
# was frozen or cut off past JOBS_STALLED_SECONDS) matches no row, and its body stops here (TakenOver).
PROGRESS = ("UPDATE job_runs r SET progress = %s WHERE r.id = %s AND r.status = 'running' RETURNING "
            "(SELECT j.abort_requested FROM procrastinate_jobs j WHERE j.id = r.queue_job_id)")


class TakenOver(Exception):  # noqa: N818  (an outcome, like procrastinate's JobAborted)
    """This run was ended elsewhere (failed by a stalled-job sweep) while its body still ran here."""


class Tracker:
    """Handed to a job body: `progress(text)`, `log(line)`, `check_cancel()`."""

    def __init__(self, run, context):
        self.run = run
        self.context = context
        self._lines = deque(run.log.splitlines(), maxlen=settings.JOBS_LOG_LINES)
        self._last_write = 0.0
        self.cancelled = False

    def check_cancel(self):
        if self.cancelled or (self.context is not None and self.context.should_abort()):
            self.cancelled = True
            raise JobAborted(f"job #{self.run.pk} cancelled")

    def progress(self, text, *, force=False):
        """Write the progress line (at most every PROGRESS_EVERY s); the same statement reads the queue row's
        cancel request, so a cancel is seen even before the worker's LISTEN connection delivers it (or
        without a worker: jobs.inline)."""
        self.check_cancel()
        now = time.monotonic()
        if force or now - self._last_write >= PROGRESS_EVERY:
            self._last_write = now
            with connection.cursor() as cursor:
                cursor.execute(PROGRESS, [str(text)[:200], self.run.pk])
                row = cursor.fetchone()
            if row is None:
                raise TakenOver(f"job #{self.run.pk} was ended elsewhere while it ran here: stopped")
            self.cancelled = bool(row[0])
            self.check_cancel()

    @property
    def lines(self):
        return list(self._lines)

    def add_line(self, line):
        self._lines.append(f"{timezone.now():%H:%M:%S} {line}")

    def log(self, line):
        self.add_line(line)
        JobRun.objects.filter(pk=self.run.pk, status="running").update(log="\n".join(self._lines))


END = ("UPDATE job_runs SET status = %(run_status)s, result = %(result)s, error = %(error)s, "
       "finished_at = %(finished_at)s, log = %(log)s WHERE id = %(run_id)s AND status = 'running'")
# In a worker a success is written by the statement that finishes the queue job (jobs.resilience): one round
# trip and one commit instead of two, and the JobRun and the queue can never disagree about how a job ended.
# A run already ended elsewhere (TakenOver) keeps its first outcome, and its queue job is failed, not succeeded.
FINISH_WITH_END = sql.SQL(
    "WITH ended AS ({end} RETURNING id) "
    "SELECT procrastinate_finish_job_v1(%(job_id)s, (CASE WHEN EXISTS (SELECT FROM ended) THEN %(status)s "
    "ELSE 'failed' END)::procrastinate_job_status, %(delete_job)s), EXISTS (SELECT FROM ended) AS recorded"
).format(end=sql.SQL(END)).as_string(None)
# The key, in a worker's JobContext.additional_context, of its table {queue job id: END parameters}.
DEFERRED_ENDS = "pgdeck_deferred_ends"


def _claim(run_id, context):
    """queued → running with its first log line (jobs.claims); None when the job was cancelled before it started.
    Related rows (user, backup, schedule) load when a body asks for them.

    In a worker the fetch has claimed it already. Otherwise the thread claims it; a worker thread keeps its
    connection between jobs (jobs.tasks), and after a database restart it is dead without having failed yet,
    so the first statement fails: it is replaced and the claim tried once more with the same label and
    timestamp (if the first UPDATE did commit, CLAIM's second arm finds it)."""
    found, run = claims.fetched_claim(context)
    if found:
        return run
    params = claims.claim_params(getattr(context, "worker_name", None))
    try:
        return claims.claim(run_id, params)
    except OperationalError:
        connection.close()
        return claims.claim(run_id, params)


def _end(run, tracker, status, *, result=None, error=""):
    """The outcome and the last log line in one statement; only over a `running` row, so a run already ended
    elsewhere (TakenOver) keeps that first outcome. Returns whether it was written.

    In a worker a success is handed to the worker instead, which writes it with the queue job's end
    (FINISH_WITH_END). A failure is written here, as before: the worker's clean-up of a failed job (its backup
    row, its partial file: jobs.recovery) must have run before anyone sees the JobRun `failed`."""
    tracker.add_line(f"{status}: {error}" if error else "done")
    end = {"run_status": status, "result": None if result is None else Jsonb(result), "error": error[:2000],
           "finished_at": timezone.now(), "log": "\n".join(tracker.lines), "run_id": run.pk}
    context = tracker.context
    deferred = getattr(context, "additional_context", None) or {}
    job_id = getattr(getattr(context, "job", None), "id", None)
    if status == "succeeded" and deferred.get(DEFERRED_ENDS) is not None and job_id is not None:
        deferred[DEFERRED_ENDS][job_id] = end
        return True
    with connection.cursor() as cursor:
        cursor.execute(END, end)
        return cursor.rowcount == 1


def one_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def tracked(body, run_id, context):
    """Run `body(run, tracker)` for JobRun `run_id`; re-raise failures so procrastinate records them too."""
    job_id = getattr(getattr(context, "job", None), "id", None)
    RUNNING.add(job_id)
    try:
        return _tracked(body, run_id, context)
    finally:
        RUNNING.discard(job_id)


TAKEN_OVER = ("job #%s was ended by another worker while it ran here (this worker was frozen or cut off): "
              "its body stopped, its outcome here (%s) not recorded")


def _record(run, tracker, status, **outcome):
    """_end, or (the run was ended elsewhere meanwhile) the log line saying this outcome is dropped."""
    if not _end(run, tracker, status, **outcome):
        logger.warning(TAKEN_OVER, run.pk, status)
        return False
    return True


def _tracked(body, run_id, context):
    run = _claim(run_id, context)
    if run is None:
        logger.info("job run %s is not queued any more (cancelled?): skipped", run_id)
        return None
    tracker = Tracker(run, context)
    try:
        result = body(run, tracker)
    except TakenOver:
        logger.warning(TAKEN_OVER, run.pk, "stopped")
        raise
    except JobAborted:
        _record(run, tracker, "cancelled", error="cancelled while running")
        raise
    except Exception as exc:
        _record(run, tracker, "failed", error=one_line(exc))
        raise
    except BaseException as exc:  # the worker is being torn down: record it rather than leave `running`
        _record(run, tracker, "failed", error=f"interrupted ({exc.__class__.__name__})")
        raise
    if not _record(run, tracker, "succeeded", result=result):
        raise TakenOver(f"job #{run.pk} was ended elsewhere while it ran here")
    return result
