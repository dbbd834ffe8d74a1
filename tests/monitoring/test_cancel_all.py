"""Cancel all long-running: the confirmation lists this database's long statements only; the POST cancels
exactly those still running the confirmed statement, and audits each one plus the batch."""

import threading

import psycopg
import pytest

from dbtools.models import AuditEvent
from tests.monitoring.conftest import _conninfo, is_active, wait_for

URL = "/admin/dbtools/monitoring/activity/cancel-long-running/"


@pytest.fixture
def two_sleepers(sessions, observer, settings):
    settings.MONITORING_LONG_QUERY_SECONDS = 0
    sleepers = [sessions(), sessions()]
    for sleeper in sleepers:
        sleeper.run("SELECT pg_sleep(60)")
    for sleeper in sleepers:
        wait_for(lambda s=sleeper: is_active(observer, s.pid, 0.1), what=f"pid {sleeper.pid} sleeping")
    return sleepers


@pytest.fixture
def other_database_sleeper(observer):
    """A long statement in another database of the same server: not pgdeck's to cancel."""
    conn = psycopg.connect(autocommit=True, **{**_conninfo(), "dbname": "postgres"})
    pid = conn.info.backend_pid
    thread = threading.Thread(target=lambda: _quietly(conn), daemon=True)
    thread.start()
    wait_for(lambda: is_active(observer, pid, 0.1), what="the other database's sleeper")
    yield pid
    observer.execute("SELECT pg_terminate_backend(%s)", [pid])
    thread.join(10)
    conn.close()


def _quietly(conn):
    try:
        conn.execute("SELECT pg_sleep(60)")
    except psycopg.Error:
        pass


def test_confirm_lists_this_databases_long_statements_and_post_cancels_them(
        client_for, two_sleepers, other_database_sleeper, observer):
    client = client_for("operator")
    page = client.get(URL)
    assert page.status_code == 200
    listed = {row["pid"] for row in page.context["targets"]}
    assert {s.pid for s in two_sleepers} <= listed and other_database_sleeper not in listed
    tokens = [row["token"] for row in page.context["targets"]]
    response = client.post(URL, {"target": tokens})
    assert response.status_code == 302
    for sleeper in two_sleepers:
        sleeper.join()
        assert isinstance(sleeper.error, psycopg.errors.QueryCanceled)
    assert is_active(observer, other_database_sleeper)
    batch = AuditEvent.objects.get(action="backend.cancel_all")
    assert {s.pid for s in two_sleepers} <= set(batch.details["cancelled"])
    assert AuditEvent.objects.filter(action="backend.cancel", target__in=[str(s.pid) for s in two_sleepers],
                                     details__result="signalled").count() == 2


def test_a_statement_that_changed_since_the_confirmation_is_left_alone(client_for, two_sleepers, observer):
    first, second = two_sleepers
    stale = f"{first.pid}:2001-01-01T00:00:00+00:00"  # the pid now runs a statement nobody confirmed
    client_for("operator").post(URL, {"target": [stale]})
    assert is_active(observer, first.pid) and is_active(observer, second.pid)
    assert AuditEvent.objects.get(action="backend.cancel_all").details["skipped"] == [stale]


def test_garbled_targets_cancel_nothing(client_for, two_sleepers, observer):
    response = client_for("operator").post(URL, {"target": ["12;DROP", "x:y"]}, follow=True)
    assert "nothing was cancelled" in response.content.decode()
    assert all(is_active(observer, s.pid) for s in two_sleepers)
    assert not AuditEvent.objects.filter(action__startswith="backend.cancel").exists()


def test_viewers_may_not_cancel(client_for, db):
    client = client_for("viewer")
    assert client.get(URL).status_code == 403 and client.post(URL, {"target": []}).status_code == 403


def test_the_activity_page_links_to_it_for_operators(client_for, two_sleepers):
    assert b'id="cancel-all-link"' in client_for("operator").get("/admin/dbtools/monitoring/activity/").content
    assert b'id="cancel-all-link"' not in client_for("viewer").get("/admin/dbtools/monitoring/activity/").content

