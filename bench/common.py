"""Shared pieces for benchmarks: a throw-away migrated database and timing statistics."""

import contextlib
import statistics
import time

from django.conf import settings
from django.db import DatabaseError, connection


@contextlib.contextmanager
def bench_database(name="bench_pgdeck"):
    """Create and migrate a fresh database for one benchmark, then drop it."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    settings.DATABASES["default"]["TEST"]["NAME"] = name
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.close()
        if hasattr(connection, "close_pool"):  # pooled connections would keep the database "in use"
            connection.close_pool()
        try:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        except DatabaseError:  # a session still open (a pool's, an autovacuum): end it with the database
            with connection.creation._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)} WITH (FORCE)")
        teardown_test_environment()


def timed(func, repeat):
    """Run func `repeat` times; return sorted durations in milliseconds."""
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        durations.append((time.perf_counter() - started) * 1000)
    return sorted(durations)


def percentile(sorted_ms, pct):
    index = min(len(sorted_ms) - 1, round(pct / 100 * (len(sorted_ms) - 1)))
    return sorted_ms[index]


def summary(sorted_ms):
    return {"p50": statistics.median(sorted_ms), "p95": percentile(sorted_ms, 95)}
