"""migrations_log rows for runs of the bare `alembic` CLI (hooked in dbtools/alembic/env.py; SQLAlchemy only).

Each applied revision is logged by Alembic's on_version_apply callback in the migration's own transaction, so the
row commits or rolls back with it; a failure is logged afterwards on a fresh connection, so its row survives, and
names the revision whose step failed. Read-only commands (current, history, check) never write a row.
"""

import getpass
import time

from alembic.util import CommandError
from sqlalchemy import text

INSERT = text(
    'INSERT INTO migrations_log (revision, from_revision, action, timestamp, "user", status, app_label, '
    "django_migration, duration_ms, error) VALUES (:revision, :from_revision, :action, now(), :user, :status, "
    "'', '', :duration_ms, :error)"
)
HAS_TABLE = text("SELECT to_regclass('public.migrations_log') IS NOT NULL")
CURRENT = text("SELECT string_agg(version_num, ',') FROM alembic_version")
ROWS = text("SELECT version_num FROM alembic_version ORDER BY version_num")
WRITE_COMMANDS = ("upgrade", "downgrade", "stamp")


def cli_user(x_arguments):
    try:
        name = x_arguments.get("user") or getpass.getuser()
    except Exception:  # no login name in some containers
        name = ""
    return f"{name} (alembic CLI)"[:150]


class CliLog:
    def __init__(self, user):
        self.user = user
        self.started = time.perf_counter()
        self.position = []  # alembic_version's rows as this run moved them (set once the lock is held)

    def check_written(self, ctx, heads):
        """Compare after each step: the table holds exactly Alembic's heads (Alembic's own UPDATE ... WHERE
        version_num = <old> already refuses a row that moved; this also catches an INSERT beside a foreign row)."""
        rows = [row[0] for row in ctx.connection.execute(ROWS)]
        if sorted(rows) != sorted(heads):
            raise CommandError(f"alembic_version holds {', '.join(rows) or 'no row'} where "
                               f"{', '.join(sorted(heads)) or 'no row'} was expected; nothing was written")

    def on_version_apply(self, ctx, step, heads, run_args, **kwargs):
        self.check_written(ctx, heads)
        self.position = sorted(heads)
        if not ctx.connection.execute(HAS_TABLE).scalar():
            return
        action = "stamp" if step.is_stamp else ("upgrade" if step.is_upgrade else "downgrade")
        target, source = ",".join(step.destination_revision_ids), ",".join(step.source_revision_ids)
        elapsed = (time.perf_counter() - self.started) * 1000
        ctx.connection.execute(INSERT, {"revision": target, "from_revision": source, "action": action,
                                        "user": self.user, "status": "success", "error": "",
                                        "duration_ms": None if step.is_stamp else elapsed})
        self.started = time.perf_counter()

    def failed_revision(self, script, action, target):
        """The revision whose step failed: the next one up from where this run got to (upgrade), the one being
        removed (downgrade), or the command's own target when that cannot be told."""
        try:
            if action == "downgrade":
                return ",".join(self.position) or target
            if action == "upgrade":
                steps = list(script.iterate_revisions(target, ",".join(self.position) or "base"))
                return steps[-1].revision if steps else target
        except Exception:  # noqa: S110 - an unresolvable target is the error being logged
            pass
        return target

    def failed(self, engine, action, revision, exc):
        """Log a failure on a new connection after the rollback; never hides the original error."""
        if action not in WRITE_COMMANDS:
            return
        try:
            with engine.connect() as conn:
                if not conn.execute(HAS_TABLE).scalar():
                    return
                has_version = conn.execute(text("SELECT to_regclass('public.alembic_version') IS NOT NULL")).scalar()
                current = conn.execute(CURRENT).scalar() if has_version else ""
                conn.execute(INSERT, {"revision": revision or "", "from_revision": current or "", "action": action,
                                      "user": self.user, "status": "failed", "error": str(exc).strip(),
                                      "duration_ms": (time.perf_counter() - self.started) * 1000})
                conn.commit()
        except Exception:  # noqa: S110 - the migration's own error is the one to report
            pass
