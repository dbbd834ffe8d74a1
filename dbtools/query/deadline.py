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


def terminate_backend(pid, alias):
    """pg_terminate_backend from a connection of the app's own login (the query role cannot be trusted to stop
    itself); a new connection, because this runs in the watchdog's thread."""
    db = connections[alias if alias in settings.DATABASES else "default"].settings_dict
    try:
        with psycopg.connect(autocommit=True, **direct_params(db, connect_timeout=5)) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])
    except psycopg.Error:
        pass  # the server is gone too: the run is over either way


class Watchdog(threading.Thread):
    def __init__(self, conn, seconds, *, grace, alias="default"):
        super().__init__(daemon=True, name="pgdeck-query-watchdog")
        self.conn, self.seconds, self.grace, self.alias = conn, seconds, grace, alias
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
            terminate_backend(pid, self.alias)

    def stop(self):
        self._done.set()

    def error(self):
        return timeout_error(self.seconds)
