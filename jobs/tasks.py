"""procrastinate tasks (found by procrastinate.contrib.django's autodiscovery of `tasks` modules).

Each task only carries the JobRun id: the row holds the parameters, so a job's arguments are never secrets and
the admin shows exactly what will run. Locks are given at enqueue time (jobs.starters)."""

from datetime import UTC, datetime

from django.db import connections
from procrastinate.contrib.django import app

from jobs.runner import tracked


def _task(kind, queue="default"):
    def run(context, run_id):
        # Imported on first use: the bodies pull in pglast, monitoring and backups, a quarter of the start-up of
        # every process (procrastinate imports this module in each one's django.setup()).
        from jobs import bodies

        if context.worker_name != "inline":
            _fresh_connection()
        return tracked(getattr(bodies, kind), run_id, context)

    run.__name__ = run.__qualname__ = kind
    return app.task(name=f"pgdeck.{kind}", queue=queue, pass_context=True)(run)


def _fresh_connection():
    """A worker thread keeps its connection between jobs (one per thread, at most the worker's concurrency):
    reconnecting per job halved the throughput. One that failed (a database restart) is replaced first.

    Its commits do not wait for the WAL flush (synchronous_commit = off): the job's bookkeeping (claim, log,
    outcome) is always followed by procrastinate's own, synchronous, commit of the job's end on the worker's
    other connection, which flushes the WAL up to that point, so whatever a finished job wrote is as durable
    as before; after a crash mid-job the job is failed as abandoned anyway. Two fsyncs fewer per job doubled
    the no-op throughput on a slow disk (docs/benchmarks.md)."""
    connection = connections["default"]
    if connection.connection is not None and connection.errors_occurred and not connection.is_usable():
        connection.close()
    connection.errors_occurred = False
    connection.ensure_connection()
    if not getattr(connection.connection, "pgdeck_async_commit", False):
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        connection.connection.pgdeck_async_commit = True


backup = _task("backup", "backups")
verify = _task("verify", "backups")
restore = _task("restore", "backups")
collect_stats = _task("collect_stats")
retention = _task("retention")
snapshot = _task("snapshot")
export = _task("export")
noop = _task("noop")


@app.task(name="pgdeck.bare_noop", queue="bench")
def bare_noop():
    """A plain procrastinate task with none of pgdeck's bookkeeping: the baseline of bench/jobs.py."""


@app.periodic(cron="* * * * *", periodic_id="schedules")
@app.task(name="pgdeck.dispatch_schedules", queue="default", queueing_lock="dispatch_schedules")
def dispatch_schedules(timestamp):
    """Once a minute (one worker wins each minute): enqueue the jobs of the schedules that are due."""
    from jobs.schedules import schedules_dispatch

    try:
        return schedules_dispatch(now=datetime.fromtimestamp(timestamp, UTC))
    finally:
        connections.close_all()


@app.periodic(cron="17 * * * *", periodic_id="export_retention")
@app.task(name="pgdeck.prune_exports", queue="default", queueing_lock="prune_exports")
def prune_exports(timestamp):
    """Hourly: export files older than JOBS_EXPORT_RETENTION_HOURS go, with their rows' download offers."""
    from jobs.export_retention import exports_prune

    try:
        return exports_prune()
    finally:
        connections.close_all()
