"""A run deadline that holds even when user SQL fights it.

statement_timeout alone is not enough: user SQL may `SET statement_timeout = 0`, and it bounds each statement,
not the run. One cancel is not enough either: a cancel that lands between two statements is lost. So the runner
checks the deadline between statements (`check_deadline`), and the watchdog, once the deadline has passed,
cancels again and again until the run is over, then terminates the backend from the app's own connection.
"""

import threading
import time

import psycopg
from django.conf import settings
from django.db import connections

from config.dbcheck import direct_params
from dbtools.query.errors import QueryError

CANCEL_INTERVAL = 0.25  # seconds between cancels once the deadline has passed
CANCELS_BEFORE_TERMINATE = 8


def timeout_error(seconds):
    return QueryError(f"The run took longer than its {seconds} s limit and was stopped.", code="statement_timeout",
                      status=400, sqlstate="57014", history_status="timeout")


def check_deadline(conn):
    """Raise the timeout error when the run's deadline has passed (called between statements)."""
    deadline = getattr(conn, "pgdeck_deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise timeout_error(conn.pgdeck_timeout)


def _terminator_params(alias, target):
    """The app's own login on the default target; a registered target's monitoring credential elsewhere."""
    if target not in (None, "", "default"):
        from targets import seam

        return {**seam.connect_kwargs(target, "monitoring"), "connect_timeout": 5}
    db = connections[alias if alias in settings.DATABASES else "default"].settings_dict
    return direct_params(db, connect_timeout=5)


def terminate_backend(pid, alias, target="default"):
    """pg_terminate_backend from a connection of the app's own login (the query role cannot be trusted to stop
    itself); a new connection, because this runs in the watchdog's thread."""
    try:
        with psycopg.connect(autocommit=True, **_terminator_params(alias, target)) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])
    except Exception:  # noqa: S110 - the server (or the target) is gone too: the run is over either way
        pass


class Watchdog(threading.Thread):
    def __init__(self, conn, seconds, *, grace, alias="default", target="default"):
        super().__init__(daemon=True, name="pgdeck-query-watchdog")
        self.conn, self.seconds, self.grace, self.alias, self.target = conn, seconds, grace, alias, target
        self.fired, self.terminated = False, False
        self._done = threading.Event()
        conn.pgdeck_watchdog = self
        conn.pgdeck_timeout = seconds
        conn.pgdeck_deadline = time.monotonic() + seconds

    def run(self):
        if self._done.wait(self.seconds + self.grace):
            return
        self.fired = True
        for _ in range(CANCELS_BEFORE_TERMINATE):
            try:
                self.conn.cancel_safe()
            except psycopg.Error:
                pass
            if self._done.wait(CANCEL_INTERVAL):
                return
        pid = getattr(self.conn, "pgdeck_pid", None)
        if pid:
            self.terminated = True
            terminate_backend(pid, self.alias, self.target)

    def stop(self):
        self._done.set()

    def error(self):
        return timeout_error(self.seconds)
