"""REPLICA_DATABASE_URL and REDIS_URL, exercised on a running app (gunicorn) like a deployment would."""

import uuid

import psycopg
import pytest
import redis
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
print(api_key_create(user=user, name="scaleout", scopes=["admin"])[1])
"""


def _url(settings_dict, dbname):
    host, port, user = settings_dict["HOST"], settings_dict["PORT"], settings_dict["USER"]
    if host.startswith("/"):
        return f"postgresql://{user}@/{dbname}?host={host}&port={port}"
    return f"postgresql://{user}@{host}:{port}/{dbname}"


@pytest.fixture(scope="module")
def primary_and_replica(django_db_blocker):
    """Two databases on the test server: a migrated primary and a copy of it standing in for a replica."""
    with django_db_blocker.unblock():
        settings_dict = dict(connection.settings_dict)
    tag = uuid.uuid4().hex[:8]
    primary, replica = f"pgdeck_primary_{tag}", f"pgdeck_replica_{tag}"
    admin = conninfo_for(settings_dict, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(primary)))
    env = {"DATABASE_URL": _url(settings_dict, primary), "DJANGO_DEBUG": "false"}
    manage("migrate", "--noinput", env=env)
    manage("setup_query_role", env=env)
    key = manage("shell", "-c", MAKE_KEY, env=env).stdout.strip().splitlines()[-1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(replica), sql.Identifier(primary)))
    with psycopg.connect(conninfo_for(settings_dict, replica), autocommit=True) as conn:
        conn.execute("CREATE TABLE replica_only_marker (id int)")
        conn.execute("GRANT SELECT ON replica_only_marker TO pgdeck_query")
    yield settings_dict, primary, replica, key
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in (primary, replica):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_reads_go_to_the_replica_and_writes_never_do(primary_and_replica):
    settings_dict, primary, replica, key = primary_and_replica
    server = AppServer({"DATABASE_URL": _url(settings_dict, primary),
                        "REPLICA_DATABASE_URL": _url(settings_dict, replica)})
    auth = {"Authorization": f"Bearer {key}"}
    try:
        ran = requests.post(f"{server.url}/api/v1/query", json={"sql": "SELECT current_database() AS db"},
                            headers=auth, timeout=30)
        exported = requests.post(f"{server.url}/api/v1/query/export?format=csv",
                                 json={"sql": "SELECT current_database() AS db"}, headers=auth, timeout=30)
        tables = requests.get(f"{server.url}/api/v1/monitoring/tables?q=replica_only", headers=auth, timeout=30)
        created = requests.post(f"{server.url}/api/v1/users/", json={"username": "written", "email": "w@example.com"},
                                headers=auth, timeout=30)
        listed = requests.get(f"{server.url}/api/v1/users/?search=written", headers=auth, timeout=30)
    finally:
        server.stop()
    assert ran.status_code == 200 and ran.json()["rows"] == [[replica]]
    assert exported.status_code == 200 and replica in exported.text
    assert tables.status_code == 200 and "replica_only_marker" in tables.text
    assert created.status_code == 201
    assert [u["username"] for u in listed.json()["results"]] == ["written"]  # the ORM reads the primary
    counts = {}
    for name in (primary, replica):
        with psycopg.connect(conninfo_for(settings_dict, name)) as conn:
            counts[name] = conn.execute("SELECT count(*) FROM users WHERE username = 'written'").fetchone()[0]
    assert counts == {primary: 1, replica: 0}


def test_redis_holds_sessions_and_cache(primary_and_replica):
    settings_dict, primary, _replica, key = primary_and_replica
    prefix = f"pgdeck-test-{uuid.uuid4().hex[:8]}"
    server = AppServer({"DATABASE_URL": _url(settings_dict, primary), "REDIS_URL": "redis://127.0.0.1:6379/9",
                        "CACHE_KEY_PREFIX": prefix})
    store = redis.Redis.from_url("redis://127.0.0.1:6379/9")
    try:
        browser = requests.Session()
        browser.get(f"{server.url}/admin/login/", timeout=10)
        logged_in = browser.post(f"{server.url}/admin/login/?next=/admin/", timeout=10, data={
            "username": "ops", "password": "ops-password-1", "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        overview = requests.get(f"{server.url}/api/v1/monitoring/overview", timeout=30,
                                headers={"Authorization": f"Bearer {key}"})
        keys = [k.decode() for k in store.keys(f"{prefix}:*")]
    finally:
        server.stop()
        for stale in store.keys(f"{prefix}:*"):
            store.delete(stale)
    assert logged_in.status_code == 200 and "Log out" in logged_in.text
    assert overview.status_code == 200
    assert any("django.contrib.sessions.cache" in k for k in keys), keys
    assert any("pgdeck:monitoring" in k for k in keys), keys
