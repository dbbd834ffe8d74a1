"""A server that is up but full (max_connections reached) is busy, not down: a request waiting for the pool keeps
waiting (and is served when a connection comes back), or ends in database_busy after DB_POOL_TIMEOUT — never
database_unavailable. Before: the direct probe after the pool's first short wait got "too many clients", marked
the pool down and answered 503 database_unavailable at once (a flaky 503 of the parallel suite)."""

import threading
import time

import psycopg
import pytest
import requests

from tests.servers import AppServer, ScratchCluster, manage

pytestmark = pytest.mark.slow

MAKE_KEY = """
from accounts.models import User
from accounts.services import api_key_create
user = User.objects.create_superuser("ops", "ops@example.com", "ops-password-1", role="admin")
print(api_key_create(user=user, name="busy", scopes=["read"])[1])
"""
POOL_TIMEOUT = 4


@pytest.fixture(scope="module")
def stack():
    cluster = ScratchCluster(settings={"max_connections": 10})
    cluster.start()
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE pgdeck_busy")
    env = {"DATABASE_URL": cluster.url("pgdeck_busy"), "DJANGO_DEBUG": "false"}
    manage("migrate", "--noinput", env=env)
    key = manage("shell", "-c", MAKE_KEY, env=env).stdout.strip().splitlines()[-1]
    # One worker with one pooled connection: a second request must wait for the first one's connection.
    server = AppServer({**env, "DB_POOL_SIZE": "1", "DB_MAX_OVERFLOW": "0", "DB_POOL_TIMEOUT": str(POOL_TIMEOUT)},
                       workers=1)
    yield cluster, server, {"Authorization": f"Bearer {key}"}
    server.stop()
    cluster.stop("immediate")


def fill(cluster):
    """Open connections until the server refuses more ("too many clients"); the caller closes them."""
    held = []
    while True:
        try:
            held.append(psycopg.connect(cluster.url("pgdeck_busy"), autocommit=True))
        except psycopg.OperationalError as exc:
            assert "too many clients" in str(exc), exc
            return held


def timed(url, headers, into):
    started = time.monotonic()
    into["response"] = requests.get(url, headers=headers, timeout=30)
    into["seconds"] = time.monotonic() - started


def while_full(cluster, server, auth, hold_lock):
    """The pool's only connection held by a request blocked on a lock, the server full, a second request sent;
    the lock released after `hold_lock` seconds. Returns (first, second) as {"response", "seconds"}."""
    first, second = {}, {}
    with psycopg.connect(cluster.url("pgdeck_busy")) as locker:
        locker.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
        blocked = threading.Thread(target=timed, args=(f"{server.url}/api/v1/posts/", auth, first))
        blocked.start()
        time.sleep(0.8)  # the first request now holds the pool's only connection, waiting on the lock
        held = fill(cluster)
        try:
            waiting = threading.Thread(target=timed, args=(f"{server.url}/api/v1/users/", auth, second))
            waiting.start()
            time.sleep(hold_lock)
            locker.rollback()
            blocked.join()
            waiting.join()
        finally:
            for conn in held:
                conn.close()
    return first, second


def test_full_server_is_waited_on_not_reported_down(stack):
    cluster, server, auth = stack
    assert requests.get(f"{server.url}/api/v1/users/", headers=auth, timeout=10).status_code == 200
    first, second = while_full(cluster, server, auth, hold_lock=1.5)
    assert first["response"].status_code == 200
    # served once the first request gave its connection back, not a 503 after the pool's first short wait
    assert second["response"].status_code == 200, second["response"].content
    assert second["seconds"] < POOL_TIMEOUT


def test_full_server_and_busy_pool_is_database_busy(stack):
    cluster, server, auth = stack
    first, second = while_full(cluster, server, auth, hold_lock=POOL_TIMEOUT + 1.5)
    assert first["response"].status_code == 200
    assert second["response"].status_code == 503
    assert second["response"].json()["error"]["code"] == "database_busy"
    assert requests.get(f"{server.url}/api/v1/users/", headers=auth, timeout=10).status_code == 200
