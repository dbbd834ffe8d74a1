"""Fleet probes against real servers at once: the embedded PostgreSQL 18, the PostgreSQL 15 service, a throw-away
cluster stopped mid-test ("down"), and a port that accepts and never answers ("slow")."""

import contextlib
import threading
import time

import psycopg
import pytest
from django.db import connection

from config.dbcheck import direct_params
from dbtools.monitoring import fleet
from tests.monitoring.fleet_servers import fleet_servers, scratch_kwargs

pytestmark = pytest.mark.slow


servers = fleet_servers


@pytest.fixture(autouse=True)
def fresh_probes():
    fleet.forget()
    yield
    fleet.forget()


def targets(servers):
    cluster, silent, pg15 = servers
    found = {"default": direct_params(connection.settings_dict), "scratch": scratch_kwargs(cluster),
             "silent": silent.kwargs()}
    if pg15:
        found["pg15"] = pg15.kwargs()
    return found


def default_major():
    """The app's own server: the embedded PostgreSQL 18, or the PostgreSQL 15 service under `make test-pg15`."""
    import psycopg

    from targets import seam

    with psycopg.connect(**seam.connect_kwargs("default", "app")) as conn:
        return str(conn.info.server_version // 10000)


@pytest.mark.django_db
def test_every_server_probed_at_once_and_the_silent_one_never_stalls(servers, settings):
    settings.FLEET_DEADLINE_SECONDS = 0.8
    if servers[2] is None:
        pytest.skip("no PostgreSQL 15 service at 127.0.0.1:5432")
    started = time.monotonic()
    probes = fleet.probe_targets(targets(servers))
    elapsed = time.monotonic() - started
    assert {name: probe.status for name, probe in probes.items()} == {
        "default": "up", "scratch": "up", "pg15": "up", "silent": "slow"}, probes
    # the page did not wait for the silent port's connect_timeout (2 s), only for its own deadline
    assert elapsed < settings.FLEET_CONNECT_TIMEOUT, elapsed
    assert probes["silent"].error.startswith("no answer within")
    assert probes["default"].figures["version"].startswith(default_major())
    assert probes["pg15"].figures["version"].startswith("15")
    for name in ("default", "scratch", "pg15"):
        figures = probes[name].figures
        assert figures["max_connections"] > 0 and figures["connections"] >= 0, figures
        assert figures["database_bytes"] > 0 and figures["in_recovery"] is False
        assert figures["replicas"] == 0 and figures["lag_seconds"] is None
    # the next page load does not wait for the silent port again: its probe is still running (or timed out)
    started = time.monotonic()
    again = fleet.probe_targets(targets(servers))
    assert time.monotonic() - started < settings.FLEET_DEADLINE_SECONDS
    assert again["silent"].status == "slow" and again["scratch"].status == "up"


@pytest.mark.django_db
def test_a_server_stopped_mid_test_shows_down_then_up_again(servers):
    cluster = servers[0]
    kwargs = {"scratch": scratch_kwargs(cluster)}
    assert fleet.probe_targets(kwargs)["scratch"].status == "up"  # and keeps its connection
    cluster.stop()
    try:
        down = fleet.probe_targets(kwargs)["scratch"]
        assert down.status == "down" and "refused" in down.error.lower(), down
        assert "\n" not in down.error and down.figures == {}
    finally:
        cluster.start()
    assert fleet.probe_targets(kwargs)["scratch"].status == "up"


@pytest.mark.django_db
def test_wrong_password_and_missing_database_are_down_with_one_line(servers):
    cluster = servers[0]
    kwargs = {"nodb": {**scratch_kwargs(cluster), "dbname": "no_such_db"},
              "nohost": {"host": "no-such-host.invalid", "port": 5432, "user": "x", "dbname": "x"}}
    probes = fleet.probe_targets(kwargs, deadline=5)
    assert probes["nodb"].status == "down" and 'database "no_such_db" does not exist' in probes["nodb"].error
    assert probes["nohost"].status == "down" and probes["nohost"].error


@pytest.mark.django_db
def test_long_running_blocked_and_alerts_from_the_health_checks(servers, settings):
    settings.MONITORING_LONG_QUERY_SECONDS = 0
    settings.MONITORING_IDLE_IN_TRANSACTION_SECONDS = 0
    cluster = servers[0]
    kwargs = scratch_kwargs(cluster)
    # idle in transaction, holding the lock; the waiter's statement is active past 0 s
    with _one_blocked(kwargs, ["CREATE TABLE IF NOT EXISTS fleet_lock (id int)"],
                      "LOCK TABLE fleet_lock IN ACCESS EXCLUSIVE MODE", "SELECT count(*) FROM fleet_lock"):
        probe = _until(lambda: fleet.probe_targets({"scratch": kwargs}, deadline=5)["scratch"],
                       lambda p: p.figures.get("blocked") and p.alerts_checked_at)
        assert probe.status in ("up", "slow") and probe.figures["blocked"] == 1
        assert probe.figures["long_running"] >= 1
        keys = {alert["key"]: alert for alert in probe.alerts}
        assert "idle_in_transaction" in keys and keys["idle_in_transaction"]["status"] in ("amber", "red")


@pytest.mark.django_db
def test_a_session_waiting_on_a_row_lock_counts_as_blocked(servers):
    """A row lock is waited for as a transaction id lock (wait_event_type 'Lock', event 'transactionid'), not a
    table lock: the probe asks pg_blocking_pids only for sessions waiting on a lock, and this one must be one."""
    kwargs = scratch_kwargs(servers[0])
    setup = ["CREATE TABLE IF NOT EXISTS fleet_row_lock (id int PRIMARY KEY)",
             "INSERT INTO fleet_row_lock VALUES (1) ON CONFLICT DO NOTHING"]
    with _one_blocked(kwargs, setup, "SELECT id FROM fleet_row_lock WHERE id = 1 FOR UPDATE",
                      "UPDATE fleet_row_lock SET id = 1 WHERE id = 1"):
        probe = _until(lambda: fleet.probe_targets({"scratch": kwargs}, deadline=5)["scratch"],
                       lambda p: p.figures.get("blocked"))
        assert probe.status in ("up", "slow") and probe.figures["blocked"] == 1
    after = _until(lambda: fleet.probe_targets({"scratch": kwargs}, deadline=5)["scratch"],
                   lambda p: p.figures.get("blocked") == 0)
    assert after.figures["blocked"] == 0


@pytest.mark.django_db
def test_identity_read_once_per_connection_and_again_on_a_new_one(servers, monkeypatch):
    """System identifier and server start cannot change while the probe's connection lives (a restart ends it):
    read when the connection opens, not by every probe; a new connection (here: other parameters) reads again."""
    from targets import identity

    reads = []
    real_read = identity.read
    monkeypatch.setattr(identity, "read", lambda conn: reads.append(conn) or real_read(conn))
    kwargs = scratch_kwargs(servers[0])
    probes = [fleet.probe_targets({"scratch": kwargs}, deadline=5)["scratch"] for _ in range(3)]
    assert len(reads) == 1
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        expected = real_read(conn)
    for probe in probes:
        assert probe.status == "up"
        assert {key: probe.figures[key] for key in identity.KEYS} == expected
    fleet.probe_targets({"scratch": {**kwargs, "application_name": "pgdeck-other"}}, deadline=5)
    assert len(reads) == 2


@contextlib.contextmanager
def _one_blocked(kwargs, setup, hold, wait):
    """One session runs `hold` and stays in its transaction; another runs `wait` in a thread, blocked by it."""
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        for statement in setup:
            conn.execute(statement)
    holder = psycopg.connect(**kwargs)
    holder.execute(hold)
    waiter = threading.Thread(target=_run, args=(kwargs, wait), daemon=True)
    waiter.start()
    try:
        yield
    finally:
        holder.close()
        waiter.join(10)


def _run(kwargs, statement):
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        conn.execute(statement)


def _until(produce, accept, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        value = produce()
        if accept(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@pytest.mark.django_db
def test_database_size_is_read_again_only_after_the_alerts_interval(settings):
    """pg_database_size stats every file of the database: the costliest part of a probe, so a fleet page reads it
    once per FLEET_ALERTS_SECONDS and shows the last figure in between (the rest of the row is read every load)."""
    settings.FLEET_ALERTS_SECONDS = 3600
    kwargs = {"default": direct_params(connection.settings_dict)}
    before = fleet.probe_targets(kwargs)["default"].figures["database_bytes"]
    with connection.cursor() as cursor:  # ~8 MB of new files (visible on disk before the test's rollback)
        cursor.execute("CREATE TABLE fleet_size_probe AS SELECT g, repeat('x', 200) AS pad "
                       "FROM generate_series(1, 30000) g")
    cached = fleet.probe_targets(kwargs)["default"]
    assert cached.status == "up" and cached.figures["database_bytes"] == before
    settings.FLEET_ALERTS_SECONDS = 0
    assert fleet.probe_targets(kwargs)["default"].figures["database_bytes"] > before + 4_000_000
