"""A real streaming replica (pg_basebackup -R of a throw-away cluster) next to its primary: it shares the primary's
system identifier and database name, and is still another server (targets/identity.py compares the server's
start too). Registered as two targets it is neither refused nor marked a duplicate; the fleet shows it as a
standby with its replication lag, the primary with one replica. The primary under two host names (its socket
directory and 127.0.0.1) is still one database. And what a standby changes elsewhere: its lag while the primary is
idle or gone, a restore into it refused."""

import time

import psycopg
import pytest
from django.test import Client

from dbtools.monitoring import fleet
from targets.models import Target
from tests.conftest import legacy_api_key
from tests.servers import ScratchCluster, StreamingReplica, shut_down

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(scope="module")
def clusters():
    """(primary, replica): the primary on its socket and 127.0.0.1, the replica streaming from it, caught up."""
    primary, replica = ScratchCluster(tcp=True), None
    try:
        primary.allow_replication()
        primary.start()
        replica = StreamingReplica(primary)
        replica.start()
        replica.wait_caught_up()
        yield primary, replica
    finally:
        shut_down(*[cluster for cluster in (replica, primary) if cluster is not None])


@pytest.fixture(autouse=True)
def fresh_probes(settings):
    settings.FLEET_DEADLINE_SECONDS = 5
    fleet.forget()
    yield
    fleet.forget()


def body(name, host, port):
    return {"name": name, "host": host, "port": port, "dbname": "postgres", "user": "postgres", "password": "",
            "sslmode": "disable"}


@pytest.fixture
def api(make_user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(make_user('admin', username='root'), ['admin'])}")


def register(api, name, host, port):
    return api.post("/api/v1/targets", body(name, host, port), content_type="application/json")


def test_a_replica_and_its_primary_are_two_targets_not_duplicates(clusters, api, admin_user):
    primary, replica = clusters
    for name, cluster in (("primary", primary), ("replica", replica)):
        created = register(api, name, "127.0.0.1", cluster.port)
        assert created.status_code == 201, created.content
        assert created.json()["duplicate_of"] == []
    mine, its = (Target.objects.get(name=name).identity for name in ("primary", "replica"))
    # The case the server's start time is in the identity for: same lineage, same database, another server.
    assert (mine["system_identifier"], mine["database"]) == (its["system_identifier"], its["database"])
    assert mine["started"] != its["started"]

    data = api.get("/api/v1/monitoring/fleet").json()
    rows = {row["target"]: row for row in data["targets"]}
    assert rows["primary"]["status"] == rows["replica"]["status"] == "up", rows
    assert rows["primary"]["duplicate_of"] is None and rows["replica"]["duplicate_of"] is None
    assert data["summary"]["duplicates"] == 0
    assert rows["replica"]["in_recovery"] is True and rows["primary"]["in_recovery"] is False
    assert rows["primary"]["replicas"] == 1 and rows["replica"]["replicas"] == 0
    # caught up and idle: no lag (not "unknown" because no transaction was replayed yet)
    assert rows["replica"]["replication_lag_seconds"] == 0

    page = Client()
    page.force_login(admin_user)
    html = page.get("/admin/dbtools/monitoring/fleet/").content.decode()
    assert "data-duplicate-of" not in html and "(standby)" in html

    metrics = api.get("/metrics").content.decode()
    assert "pgdeck_target_duplicate" not in metrics
    assert 'pgdeck_pg_replication_lag_seconds{target="replica"} 0.0' in metrics
    assert 'pgdeck_pg_client_connections{target="primary"}' in metrics
    assert 'pgdeck_pg_client_connections{target="replica"}' in metrics


def test_the_primary_under_two_host_names_is_still_a_duplicate(clusters, api):
    primary, _replica = clusters
    assert register(api, "primary", "127.0.0.1", primary.port).status_code == 201
    refused = register(api, "primary-socket", str(primary.dir), primary.port)
    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert error["code"] == "target_duplicate" and "same database as primary" in error["message"]
    assert not Target.objects.filter(name="primary-socket").exists()


def test_a_caught_up_replica_shows_no_lag_while_its_primary_is_idle(clusters, api):
    """The age of the last replayed commit is not the lag: with nothing written since, the standby is not
    behind (the fleet row and the replication check said it was, more so every second)."""
    primary, replica = clusters
    assert register(api, "replica", "127.0.0.1", replica.port).status_code == 201
    with psycopg.connect(host=str(primary.dir), port=primary.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS written (id int)")  # a commit for the replica to replay
    replica.wait_caught_up()
    time.sleep(1.5)  # nothing written since: the replayed commit grows old, the replica does not fall behind

    rows = {row["target"]: row for row in api.get("/api/v1/monitoring/fleet").json()["targets"]}
    assert rows["replica"]["replication_lag_seconds"] == 0
    checks = {check["key"]: check for check in api.get("/api/v1/monitoring/checks?target=replica").json()["checks"]}
    assert checks["replication"]["summary"] == "This server is a standby, replaying 0 s behind its primary"


def test_a_restore_into_the_replica_is_refused_when_queued(clusters, api, make_user, settings, tmp_path):
    """A standby is read-only whatever its credential may do: refused at once (409 target_read_only), not a job
    failing later with "the credential of target replica needs CREATEROLE"."""
    from dbtools.backups import services
    from jobs.models import JobRun

    settings.BACKUP_DIR, settings.BACKUP_ENCRYPTION_KEY = tmp_path, ""
    primary, replica = clusters
    for name, cluster in (("primary", primary), ("replica", replica)):
        assert register(api, name, "127.0.0.1", cluster.port).status_code == 201
    backup = services.backup_create(actor=make_user("admin", username="operator-admin"), target="primary")
    response = api.post(f"/api/v1/backups/{backup.pk}/restore", {"target": "replica", "confirm": "replica/postgres"},
                        content_type="application/json")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "target_read_only" and "standby" in error["message"] and "\n" not in error["message"]
    assert not JobRun.objects.filter(kind="restore").exists()


def test_a_replica_cut_off_from_its_primary_does_not_claim_to_be_caught_up(clusters, api):
    """Having replayed all it received says nothing once nothing is received: with the primary stopped the
    replica stays up, in recovery, its lag unknown or growing, never 0. Last in the module: it restarts the
    primary."""
    primary, replica = clusters
    for name, cluster in (("primary", primary), ("replica", replica)):
        assert register(api, name, "127.0.0.1", cluster.port).status_code == 201
    primary.stop()
    try:
        time.sleep(0.5)  # the replica's WAL receiver notices the primary gone and exits
        rows = {row["target"]: row for row in api.get("/api/v1/monitoring/fleet").json()["targets"]}
        assert rows["primary"]["status"] == "down" and rows["replica"]["status"] == "up"
        assert rows["replica"]["in_recovery"] is True and rows["replica"]["replication_lag_seconds"] != 0
    finally:
        primary.start()
    replica.wait_caught_up()
