"""PostgreSQL restarted under a running app: 503 within 2 s while down, no 500 ever, recovery without restart."""

import threading
import time

import psycopg
import pytest
import requests

from tests.servers import AppServer, ScratchCluster, manage

pytestmark = pytest.mark.slow

CREATE_USER_AND_KEY = """
from accounts.models import User
from accounts.services import api_key_create
user = User.objects.create_superuser("ops", "ops@example.com", "ops-password-1", role="admin")
print(api_key_create(user=user, name="fault test")[1])
"""


@pytest.fixture(scope="module")
def stack():
    cluster = ScratchCluster()
    cluster.start()
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE pgdeck_fault")
    env = {"DATABASE_URL": cluster.url("pgdeck_fault"), "DJANGO_DEBUG": "false"}
    manage("migrate", "--noinput", env=env)
    key = manage("shell", "-c", CREATE_USER_AND_KEY, env=env).stdout.strip().splitlines()[-1]
    server = AppServer(env)
    yield cluster, server, key
    server.stop()
    cluster.stop("immediate")


def logged_in_session(server):
    session = requests.Session()
    session.get(f"{server.url}/admin/login/", timeout=5)
    response = session.post(f"{server.url}/admin/login/?next=/admin/", timeout=5, data={
        "username": "ops", "password": "ops-password-1", "csrfmiddlewaretoken": session.cookies["csrftoken"]})
    assert response.status_code == 200 and "Log out" in response.text
    return session


def hammer(server, key, statuses, stop):
    while not stop.is_set():
        try:
            response = requests.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=5)
            statuses.append(response.status_code)
        except requests.RequestException as exc:  # a refused socket would be the app's fault too
            statuses.append(repr(exc))
        time.sleep(0.05)


def timed_get(session, url, **kwargs):
    started = time.monotonic()
    response = session.get(url, timeout=10, **kwargs)
    return response, time.monotonic() - started


def test_restart_gives_503_then_recovers_and_never_500(stack):
    cluster, server, key = stack
    browser = logged_in_session(server)
    auth = {"Authorization": f"Bearer {key}"}
    statuses, stop = [], threading.Event()
    worker = threading.Thread(target=hammer, args=(server, key, statuses, stop))
    worker.start()
    try:
        time.sleep(0.5)
        cluster.stop()
        api, api_seconds = timed_get(requests, f"{server.url}/api/v1/me", headers=auth)
        page, page_seconds = timed_get(browser, f"{server.url}/admin/blog/post/")
        health, _ = timed_get(requests, f"{server.url}/healthz")
        cluster.start()
        time.sleep(0.5)
        recovered, _ = timed_get(requests, f"{server.url}/api/v1/me", headers=auth)
        page_back, _ = timed_get(browser, f"{server.url}/admin/blog/post/")
    finally:
        stop.set()
        worker.join()
    assert api.status_code == 503 and api.json()["error"]["code"] == "database_unavailable"
    assert api_seconds < 2
    assert page.status_code == 503 and "unavailable" in page.text and page_seconds < 2
    assert health.status_code == 503 and health.json()["database"] == "unreachable"
    assert recovered.status_code == 200 and recovered.json()["username"] == "ops", recovered.text
    assert page_back.status_code == 200
    assert statuses and set(statuses) <= {200, 503}, statuses
