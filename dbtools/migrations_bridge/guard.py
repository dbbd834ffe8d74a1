"""The guard around each mirrored Django migration, run inside that migration's own transaction:

1. take the migration lock (lock.py) — a concurrent `alembic upgrade` or `manage.py alembic` waits, or we do;
2. read alembic_version afresh and compare it with the revision this step expects to replace;
3. run the migration's SQL and compare-and-set alembic_version in the same transaction — or, when Alembic has
   already applied this revision (alembic_version is at or past it), apply Django's state only (like adopt: the
   change is in the schema) — or refuse with VersionConflict, before any SQL ran.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import OperationalError

from dbtools.migrations_bridge import lock, scripts
from dbtools.migrations_bridge.version_table import (
    VersionConflict,
    as_rows,
    guarded_write,
    table_exists,
    version_rows,
)

RUN, SKIP = "run", "skip"


class MigrationRefused(CommandError):
    """One line for `manage.py migrate` (a CommandError prints without a traceback and exits 1)."""


class LockBusy(MigrationRefused):
    """The migration lock stayed taken for the whole timeout."""


def take_lock(connection, seconds=None):
    """pg_advisory_xact_lock on the migration key, waiting up to the timeout; MigrationRefused when it expires.
    Must run inside a transaction (the lock is released when it ends)."""
    seconds = lock.timeout_seconds(seconds if seconds is not None else getattr(settings, "MIGRATION_LOCK_TIMEOUT",
                                                                                None))
    try:
        with connection.cursor() as cursor:
            for statement in lock.lock_statements(seconds):
                cursor.execute(statement)
    except OperationalError as exc:
        if getattr(getattr(exc, "__cause__", None), "sqlstate", "") == lock.LOCK_NOT_AVAILABLE:
            raise LockBusy(lock.busy_message(seconds)) from None
        raise


def before_step(connection, pair, previous, backwards):
    """RUN or SKIP for this step, after taking the lock; VersionConflict when alembic_version is elsewhere."""
    take_lock(connection)
    rows = version_rows(connection)
    expected = as_rows(pair.revision if backwards else previous)
    if rows == expected:
        return RUN
    if not backwards and len(rows) == 1 and scripts.is_at_or_past(rows[0], pair.revision):
        return SKIP  # Alembic applied this revision already: its change is in the schema
    raise VersionConflict(rows, expected, previous if backwards else pair.revision,
                          exists=table_exists(connection) or not expected)


def after_step(connection, pair, previous, backwards):
    """Compare-and-set alembic_version in the step's transaction; an unapply also unrecords the migration here
    (Django would do it after the transaction, leaving a window where the two sides disagree)."""
    if backwards:
        guarded_write(connection, as_rows(pair.revision), previous or None)
        MigrationRecorder(connection).record_unapplied(pair.app_label, pair.name)
    else:
        guarded_write(connection, as_rows(previous), pair.revision)


def state_only(migration, project_state):
    """What `migrate --fake` does for one migration: Django's state moves, the database does not."""
    for operation in migration.operations:
        operation.state_forwards(migration.app_label, project_state)
    return project_state
