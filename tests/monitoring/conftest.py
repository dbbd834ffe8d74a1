"""Real situations for monitoring tests: extra PostgreSQL sessions (victims, lock holders) on the test database."""

import threading
import time

import psycopg
import pytest
from django.db import connection

from accounts.services import api_key_create

APP_NAME = "pgdeck-test-session"


def _conninfo():
    fields = connection.settings_dict
    params = {"dbname": fields["NAME"], "user": fields.get("USER") or None, "password": fields.get("PASSWORD") or None,
              "host": fields.get("HOST") or None, "port": fields.get("PORT") or None,
              "application_name": APP_NAME, "connect_timeout": 5}
    return {key: value for key, value in params.items() if value is not None}


def wait_for(predicate, timeout=15.0, what="condition"):
    """Poll until predicate() is truthy; fail the test (not hang) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


class Session:
    """One extra PostgreSQL session; run() executes SQL in a background thread and keeps its outcome."""

    def __init__(self, autocommit=True, conninfo="", **params):
        """conninfo: another database's (e.g. scratch_db's); params override the test database's keywords."""
        params = params if conninfo else {**_conninfo(), **params}
        self.conn = psycopg.connect(conninfo, autocommit=autocommit, **params)
        self.pid = self.conn.info.backend_pid
        self.thread, self.error, self.result = None, None, None

    def execute(self, sql, params=None):
        cursor = self.conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else None

    def run(self, sql):
        def target():
            try:
                self.result = self.execute(sql)
            except psycopg.Error as exc:
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self, timeout=15):
        if self.thread is not None:
            self.thread.join(timeout)
            assert not self.thread.is_alive(), f"session {self.pid} is still running"


@pytest.fixture
def sessions(db):
    """sessions() → a new Session; all are cancelled/closed at the end of the test."""
    made = []

    def make(autocommit=True, conninfo="", **params):
        session = Session(autocommit=autocommit, conninfo=conninfo, **params)
        made.append(session)
        return session

    yield make
    with psycopg.connect(autocommit=True, **{**_conninfo(), "application_name": "pgdeck-test-cleanup"}) as admin:
        for session in made:
            admin.execute("SELECT pg_terminate_backend(%s)", [session.pid])
    for session in made:
        if session.thread is not None:
            session.thread.join(10)
        session.conn.close()


@pytest.fixture
def observer():
    """A separate autocommit session to watch pg_stat_activity (the test's own transaction sees a snapshot)."""
    with psycopg.connect(autocommit=True, **{**_conninfo(), "application_name": "pgdeck-test-observer"}) as conn:
        yield conn


def is_active(observer, pid, min_seconds=0.0):
    row = observer.execute(
        "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND state = 'active'"
        " AND now() - query_start >= make_interval(secs => %s)", [pid, min_seconds]).fetchone()
    return row is not None


def is_blocked(observer, pid):
    row = observer.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [pid]).fetchone()
    return row[0]


@pytest.fixture
def api_client_for(make_user):
    """api_client_for("operator", ["operate"]) → a DRF-less Django Client sending that role's key."""
    from django.test import Client

    def make(role, scopes, **user_kwargs):
        user = make_user(role, **user_kwargs)
        _key, plaintext = api_key_create(user=user, name="monitoring tests", scopes=scopes)
        return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    return make
