"""migrations_log rows, written on their own autocommit connection so a failure's row survives the rollback of
the migration's transaction (and a success's row is there even when the caller's transaction is not)."""

import getpass
import logging
from dataclasses import asdict, dataclass

import psycopg
from django.db import connections

from targets import seam

logger = logging.getLogger("pgdeck.migrations")

INSERT = """
INSERT INTO migrations_log (revision, from_revision, action, timestamp, "user", status, app_label,
                            django_migration, duration_ms, error)
VALUES (%(revision)s, %(from_revision)s, %(action)s, now(), %(user)s, %(status)s, %(app_label)s,
        %(django_migration)s, %(duration_ms)s, %(error)s)
"""


@dataclass
class LogRow:
    action: str
    status: str
    revision: str = ""
    from_revision: str = ""
    user: str = ""
    app_label: str = ""
    django_migration: str = ""
    duration_ms: float | None = None
    error: str = ""


def os_user():
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""


def _conninfo(using):
    """The app's database through the connection seam (TLS options included), on a connection of its own."""
    timeout = connections[using].settings_dict.get("OPTIONS", {}).get("connect_timeout") or 5
    return seam.conninfo("default", "app", alias=using, application_name=None, connect_timeout=int(timeout))


def _summary(row):
    return f"{row.action} {row.from_revision or '-'} -> {row.revision or 'base'} {row.status}"


def write_rows(rows, using="default"):
    """Insert `rows` (LogRow) and commit at once; False (and a log line) when migrations_log does not exist yet."""
    if not rows:
        return True
    try:
        with psycopg.connect(_conninfo(using), autocommit=True) as conn:
            if not conn.execute("SELECT to_regclass('public.migrations_log') IS NOT NULL").fetchone()[0]:
                logger.warning("migrations_log does not exist yet (manage.py migrate creates it); not logged: %s",
                               "; ".join(_summary(r) for r in rows))
                return False
            with conn.transaction():
                for row in rows:
                    values = asdict(row)
                    values["user"] = (values["user"] or os_user())[:150]
                    values["error"] = values["error"] or ""
                    conn.execute(INSERT, values)
    except psycopg.Error as exc:
        logger.error("could not write migrations_log (%s): %s", exc, "; ".join(_summary(r) for r in rows))
        return False
    return True
