"""Real worker processes (`manage.py worker`) and a throw-away migrated database for the fault tests."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import psutil
import psycopg
from django.db import connection
from psycopg import sql

from tests.catalog import conninfo_for
from tests.servers import ROOT, manage

MAKE_KEY = """
from accounts.models import User
from accounts.services import api_key_create
user = User.objects.create_superuser("ops", "ops@example.com", "ops-password-1", role="admin")
print(api_key_create(user=user, name="jobs faults", scopes=["admin"])[1])
"""
# Fast heartbeats so a dead worker is noticed within seconds in the tests (production: 10 s / 60 s).
FAST = {"JOBS_HEARTBEAT_SECONDS": "1", "JOBS_STALLED_SECONDS": "3", "JOBS_SWEEP_SECONDS": "1"}


def database_url(settings_dict, dbname):
    host, port, user = settings_dict["HOST"], settings_dict["PORT"], settings_dict["USER"]
    if host.startswith("/"):
        return f"postgresql://{user}@/{dbname}?host={host}&port={port}"
    return f"postgresql://{user}@{host}:{port}/{dbname}"


class Stack:
    """A migrated database on the test server with an admin and an API key; `env` for every subprocess."""

    def __init__(self, django_db_blocker):
        with django_db_blocker.unblock():
            self.settings_dict = dict(connection.settings_dict)
        self.dbname = f"pgdeck_jobs_{uuid.uuid4().hex[:8]}"
        self.admin = conninfo_for(self.settings_dict, "postgres")
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))
        self.backup_dir = tempfile.mkdtemp(prefix="pgdeck-jobs-backups-")
        self.env = {"DATABASE_URL": database_url(self.settings_dict, self.dbname), "DJANGO_DEBUG": "false",
                    "BACKUP_DIR": self.backup_dir, **FAST}
        manage("migrate", "--noinput", env=self.env, timeout=300)
        self.key = manage("shell", "-c", MAKE_KEY, env=self.env).stdout.strip().splitlines()[-1]

    def query(self, text, params=None):
        with psycopg.connect(conninfo_for(self.settings_dict, self.dbname), autocommit=True) as conn:
            cursor = conn.execute(text, params)
            return cursor.fetchall() if cursor.description else None

    def shell(self, code):
        return manage("shell", "-c", code, env=self.env).stdout.strip().splitlines()[-1]

    def wait_for(self, text, predicate, timeout=120, params=None):
        """Poll `text` until predicate(rows) holds; a liveness bound, not a timing assertion."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.query(text, params)
            if predicate(rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"still {rows!r} after {timeout} s: {text}")
            time.sleep(0.2)

    def drop(self):
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.dbname)))


class Worker:
    """`manage.py worker` in its own session, so a kill takes its pg_dump children too (a container dying)."""

    def __init__(self, env, *args):
        inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        self.log = tempfile.NamedTemporaryFile(prefix="pgdeck-worker-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", *args], cwd=ROOT, start_new_session=True,
            env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings.local", **env},
            stdout=self.log, stderr=subprocess.STDOUT)

    def children(self, name):
        """Running children called `name`, leaving out the short `--version` probes the tools are picked by."""
        found = []
        for proc in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if proc.name() == name and "--version" not in proc.cmdline():
                    found.append(proc)
            except psutil.NoSuchProcess:  # a probe that just ended
                continue
        return found

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self):
        with open(self.log.name) as handle:
            return handle.read()


class InlineWorker:
    """A worker thread inside the test process (it sees the test's settings overrides, e.g. a fake pg_dump):
    runs committed queued jobs until stopped. For transactional tests with a live server."""

    def __init__(self):
        import threading

        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="pgdeck-inline-worker")

    def _loop(self):
        from django.db import connections

        from jobs.inline import run_queued

        try:
            while not self.stop_event.is_set():
                if not run_queued():
                    self.stop_event.wait(0.2)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(120)
