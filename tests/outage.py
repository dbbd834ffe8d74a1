"""The app's own database stopped under load: how long every answer takes while it is down, and how soon the
first 200 comes once it is back (issue 14, "Bad input and faults").

A throw-away cluster on 127.0.0.1 (TCP, as a remote database would be), pgdeck under gunicorn (3 workers) and
four clients that send requests back to back (API key and an admin page). The test (tests/faults/
test_outage_bounds.py) asserts the bounds from these records; run it by hand for any outage length:

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python -m tests.outage 5 30 120
"""

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from tests.servers import AppServer, ScratchCluster, manage

CREATE_USER_AND_KEY = """
from accounts.models import User
from accounts.services import api_key_create
user = User.objects.create_superuser("ops", "ops@example.com", "ops-password-1", role="admin")
print(api_key_create(user=user, name="outage", scopes=["read"])[1])
"""
# The answer to one request must never take longer than this in the clients themselves (far above the bound).
CLIENT_TIMEOUT = 60
RECOVERY_WATCH = 5.0  # seconds the clients go on after the server is back


@dataclass
class Answer:
    client: str
    started: float
    ended: float
    status: object  # an HTTP status, or the exception's repr

    @property
    def seconds(self):
        return self.ended - self.started


@dataclass
class Outage:
    seconds: float
    down_at: float
    up_at: float
    answers: list = field(default_factory=list)

    def while_down(self):
        """Answers to requests sent between the stop and the server accepting connections again."""
        return [a for a in self.answers if self.down_at <= a.started < self.up_at]

    def slowest_while_down(self):
        return max((a.seconds for a in self.while_down()), default=0.0)

    def first_ok_after_up(self):
        """Seconds from the server accepting connections to the first 200 answer, per client kind."""
        ok = [a.ended - self.up_at for a in self.answers if a.status == 200 and a.ended >= self.up_at]
        return min(ok, default=None)

    def statuses(self):
        return {a.status for a in self.answers if a.started >= self.down_at}

    def summary(self):
        first = self.first_ok_after_up()
        return (f"outage {self.seconds:g} s: {len(self.while_down())} answers while down, slowest "
                f"{self.slowest_while_down():.2f} s; first 200 {first if first is None else round(first, 2)} s "
                f"after the server is back; statuses {sorted(map(str, self.statuses()))}")


class Stack:
    """A scratch cluster with a migrated database, and gunicorn on it."""

    def __init__(self, workers=3, env=None):
        self.cluster = ScratchCluster(tcp=True)
        self.cluster.start()
        with psycopg.connect(self.cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE pgdeck_outage")
        self.env = {"DATABASE_URL": self.cluster.url("pgdeck_outage"), "DJANGO_DEBUG": "false", **(env or {})}
        manage("migrate", "--noinput", env=self.env)
        self.key = manage("shell", "-c", CREATE_USER_AND_KEY, env=self.env).stdout.strip().splitlines()[-1]
        self.server = AppServer(self.env, workers=workers)

    def close(self):
        self.server.stop()
        self.cluster.stop("immediate")

    def logged_in_session(self):
        session = requests.Session()
        session.get(f"{self.server.url}/admin/login/", timeout=10)
        response = session.post(f"{self.server.url}/admin/login/?next=/admin/", timeout=10, data={
            "username": "ops", "password": "ops-password-1", "csrfmiddlewaretoken": session.cookies["csrftoken"]})
        assert response.status_code == 200 and "Log out" in response.text, response.status_code
        return session

    def clients(self):
        """(name, session, url, headers) for the four clients."""
        auth = {"Authorization": f"Bearer {self.key}"}
        base = self.server.url
        return [("api-me-1", requests.Session(), f"{base}/api/v1/me", auth),
                ("api-me-2", requests.Session(), f"{base}/api/v1/me", auth),
                ("api-posts", requests.Session(), f"{base}/api/v1/posts/", auth),
                ("admin-page", self.logged_in_session(), f"{base}/admin/blog/post/", {})]

    def outage(self, seconds):
        """Stop PostgreSQL for `seconds` under load; return the Outage with every answer recorded."""
        answers, stop = [], threading.Event()
        threads = [threading.Thread(target=_send, args=(*client, answers, stop), daemon=True)
                   for client in self.clients()]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # warm: every worker has pooled connections
        down_at = time.monotonic()
        self.cluster.stop()
        time.sleep(max(0.0, seconds - (time.monotonic() - down_at)))
        self.cluster.start()
        up_at = time.monotonic()
        time.sleep(RECOVERY_WATCH)
        stop.set()
        for thread in threads:
            thread.join(CLIENT_TIMEOUT + 5)
        return Outage(seconds, down_at, up_at, sorted(answers, key=lambda a: a.started))


def _send(name, session, url, headers, answers, stop):
    while not stop.is_set():
        started = time.monotonic()
        try:
            status = session.get(url, headers=headers, timeout=CLIENT_TIMEOUT).status_code
        except requests.RequestException as exc:
            status = repr(exc)
        answers.append(Answer(name, started, time.monotonic(), status))
        time.sleep(0.02)


def main(lengths):
    import django

    django.setup()
    stack = Stack()
    try:
        for seconds in lengths:
            outage = stack.outage(seconds)
            print(outage.summary(), flush=True)
            slow = [a for a in outage.while_down() if a.seconds > 2]
            for answer in slow[:10]:
                print(f"   slow: {answer.client} at +{answer.started - outage.down_at:.1f} s took "
                      f"{answer.seconds:.2f} s → {answer.status}")
            time.sleep(2)
    finally:
        stack.close()
        if os.environ.get("OUTAGE_SERVER_LOG"):
            Path(os.environ["OUTAGE_SERVER_LOG"]).write_text(stack.server.text())


if __name__ == "__main__":
    main([float(arg) for arg in sys.argv[1:]] or [5.0, 30.0])
