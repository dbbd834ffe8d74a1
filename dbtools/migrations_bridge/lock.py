"""The one lock every writer of alembic_version takes: Django's migrate (each mirrored migration's transaction),
`manage.py alembic`, adopt, stamp, sync and the bare `alembic` CLI (pgdeck's env.py).

It is a PostgreSQL advisory lock on MIGRATION_LOCK_KEY, taken with pg_advisory_xact_lock inside the transaction
that changes the schema, so it is released by that transaction's COMMIT or ROLLBACK and never leaks. A writer
that finds it taken waits up to MIGRATION_LOCK_TIMEOUT seconds, then reads alembic_version afresh.

No Django import here: env.py loads this module without setting Django up.
"""

import os

# "pgdeck-m" read as a bigint; documented in docs/migrations.md (other tools may take it too).
MIGRATION_LOCK_KEY = 0x7067646563_6b6d
DEFAULT_TIMEOUT_SECONDS = 60
LOCK_SQL = f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
SESSION_LOCK_SQL = f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"
SESSION_UNLOCK_SQL = f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"
LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of lock_timeout


def timeout_seconds(value=None):
    """The wait, in seconds: `value`, else MIGRATION_LOCK_TIMEOUT from the environment, else 60."""
    raw = value if value not in (None, "") else os.environ.get("MIGRATION_LOCK_TIMEOUT", "")
    try:
        seconds = int(raw) if raw not in (None, "") else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        seconds = DEFAULT_TIMEOUT_SECONDS
    return max(seconds, 1)


def busy_message(seconds):
    return (f"another migration held the migration lock (advisory lock {MIGRATION_LOCK_KEY}) for {seconds} s; "
            "nothing was changed: try again when it has finished")


def lock_statements(seconds, *, session=False):
    """SQL to run in order: bound the wait, take the lock, then restore the server's lock_timeout (so the
    migration's own DDL is not cut short by our bound)."""
    return [f"SET LOCAL lock_timeout = '{int(seconds)}s'" if not session else f"SET lock_timeout = '{int(seconds)}s'",
            SESSION_LOCK_SQL if session else LOCK_SQL,
            "RESET lock_timeout" if session else "SET LOCAL lock_timeout TO DEFAULT"]
