"""A locked table and a full connection pool: clear 503s within the configured timeouts, then recovery."""

import threading
import time
import uuid

import psycopg
import pytest
import requests
from django.db import connection
from psycopg import sql

from tests.catalog import conninfo_for
from tests.servers import AppServer, manage

pytestmark = pytest.mark.slow

MAKE_KEY = """
from accounts.models import User
from accounts.services import api_key_create
user = User.objects.create_superuser("ops", "ops@example.com", "ops-password-1", role="admin")
print(api_key_create(user=user, name="faults", scopes=["read"])[1])
"""


@pytest.fixture(scope="module")
def app(django_db_blocker):
    with django_db_blocker.unblock():
        settings_dict = dict(connection.settings_dict)
    name = f"pgdeck_pool_{uuid.uuid4().hex[:8]}"
    admin = conninfo_for(settings_dict, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    host = settings_dict["HOST"]
    url = (f"postgresql://{settings_dict['USER']}@/{name}?host={host}&port={settings_dict['PORT']}"
           if host.startswith("/") else f"postgresql://{settings_dict['USER']}@{host}:{settings_dict['PORT']}/{name}")
    manage("migrate", "--noinput", env={"DATABASE_URL": url})
    key = manage("shell", "-c", MAKE_KEY, env={"DATABASE_URL": url}).stdout.strip().splitlines()[-1]
    # One worker with one pooled connection, so a second request must wait for the first one's connection.
    server = AppServer({"DATABASE_URL": url, "DB_POOL_SIZE": "1", "DB_MAX_OVERFLOW": "0", "DB_POOL_TIMEOUT": "2",
                        "DB_LOCK_TIMEOUT": "4000"}, workers=1)
    yield server, key, conninfo_for(settings_dict, name)
    server.stop()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_locked_table_and_full_pool_answer_503_in_time_then_recover(app):
    server, key, conninfo = app
    auth = {"Authorization": f"Bearer {key}"}
    url = f"{server.url}/api/v1/posts/"
    assert requests.get(url, headers=auth, timeout=10).status_code == 200
    first = {}

    def blocked_request():
        started = time.monotonic()
        first["response"] = requests.get(url, headers=auth, timeout=30)
        first["seconds"] = time.monotonic() - started

    with psycopg.connect(conninfo) as locker:
        locker.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
        worker = threading.Thread(target=blocked_request)
        worker.start()
        time.sleep(0.8)  # the first request now holds the only connection, waiting on the lock
        started = time.monotonic()
        # A view that needs a connection (/api/v1/me would not: the key is cached, and it reads no table).
        second = requests.get(f"{server.url}/api/v1/users/", headers=auth, timeout=30)
        second_seconds = time.monotonic() - started
        worker.join()
        locker.rollback()
    assert second.status_code == 503 and second.json()["error"]["code"] == "database_busy"
    assert second_seconds < 4  # DB_POOL_TIMEOUT (2 s) plus a little
    assert first["response"].status_code == 503
    assert first["response"].json()["error"]["code"] == "database_timeout"
    assert first["seconds"] < 7  # DB_LOCK_TIMEOUT (4 s) plus a little
    assert requests.get(url, headers=auth, timeout=10).status_code == 200  # nothing stuck afterwards
