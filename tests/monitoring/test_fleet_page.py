"""Monitoring → Fleet and GET /api/v1/monitoring/fleet with registered targets on real servers: the embedded
PostgreSQL 18 ("default"), the PostgreSQL 15 service, a throw-away cluster stopped mid-test, a silent port."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from dbtools.monitoring import fleet
from targets.models import Target, TargetGrant
from targets.services import target_create
from tests.monitoring.fleet_servers import PG15, fleet_servers

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
servers = fleet_servers
URL = "/admin/dbtools/monitoring/fleet/"


@pytest.fixture(autouse=True)
def fresh_probes(settings):
    settings.FLEET_DEADLINE_SECONDS = 0.8
    fleet.forget()
    yield
    fleet.forget()


@pytest.fixture
def registered(servers):
    cluster, silent, pg15 = servers
    target_create(name="scratch", host="127.0.0.1", port=cluster.port, dbname="postgres", user="postgres",
                  environment="staging")
    target_create(name="silent", host="127.0.0.1", port=silent.port, dbname="x", user="x", sslmode="disable")
    if pg15:
        target_create(name="pg15", host=PG15["host"], port=PG15["port"], dbname=pg15.name, user="postgres",
                      environment="production")
    return servers


def rows_by_name(response):
    return {row["target"]: row for row in response.context["rows"]}



def default_major():
    """The app's own server: the embedded PostgreSQL 18, or the PostgreSQL 15 service under `make test-pg15`."""
    import psycopg

    from targets import seam

    with psycopg.connect(**seam.connect_kwargs("default", "app")) as conn:
        return str(conn.info.server_version // 10000)


def test_fleet_page_one_row_per_target_with_one_down_and_one_slow(client_for, registered):
    cluster, _silent, pg15 = registered
    client = client_for("admin")
    rows = rows_by_name(client.get(URL))
    assert rows["default"]["status"] == "up" and rows["default"]["version"].startswith(default_major())
    assert rows["scratch"]["status"] == "up" and rows["scratch"]["environment"] == "staging"
    assert rows["silent"]["status"] == "slow"
    if pg15:
        assert rows["pg15"]["status"] == "up" and rows["pg15"]["version"].startswith("15")
    cluster.stop()
    try:
        response = client.get(URL)
    finally:
        cluster.start()
    assert response.status_code == 200
    rows = rows_by_name(response)
    assert rows["scratch"]["status"] == "down" and "refused" in rows["scratch"]["error"].lower()
    assert rows["silent"]["status"] == "slow" and rows["default"]["status"] == "up"
    text = response.content.decode()
    assert 'data-target="scratch" data-status="down"' in text and 'data-status="slow"' in text
    assert "target-badge--staging" in text
    assert response.context["fleet_summary"]["down"] == 1


def test_rows_only_for_targets_the_user_may_monitor(client_for, registered):
    viewer = client_for("viewer")
    assert list(rows_by_name(viewer.get(URL))) == ["default"]
    TargetGrant.objects.create(target=Target.objects.get(name="scratch"), group=Group.objects.get(name="viewer"),
                               capability="monitor")
    TargetGrant.objects.create(target=Target.objects.get(name="silent"), group=Group.objects.get(name="viewer"),
                               capability="query")  # not monitor: no row
    assert list(rows_by_name(viewer.get(URL))) == ["default", "scratch"]
    assert client_for("nobody", username="nobody-user").get(URL).status_code == 403


def test_last_backup_age_of_the_default_target(client_for, registered):
    from datetime import timedelta

    from django.utils import timezone

    from dbtools.models import Backup

    Backup.objects.create(file="x.dump", status="success", finished_at=timezone.now() - timedelta(hours=3))
    rows = rows_by_name(client_for("admin").get(URL))
    assert 3 * 3600 - 60 <= rows["default"]["last_backup_age_seconds"] <= 3 * 3600 + 60
    assert rows["default"]["cells"][-1] == "3 h ago"
    assert rows["scratch"]["last_backup_age_seconds"] is None


def test_api_fleet(api_client_for, registered):
    response = api_client_for("operator", ["monitor"]).get("/api/v1/monitoring/fleet")
    assert response.status_code == 200, response.content
    body = response.json()
    by_name = {row["target"]: row for row in body["targets"]}
    assert by_name["default"]["status"] == "up" and by_name["default"]["connections"] >= 1
    assert body["summary"]["up"] >= 1
    assert api_client_for("admin", ["write"], username="w").get("/api/v1/monitoring/fleet").status_code == 403
    assert Client().get("/api/v1/monitoring/fleet").status_code in (401, 403)


def test_metrics_label_every_target(api_client_for, registered):
    from prometheus_client.parser import text_string_to_metric_families

    cluster = registered[0]
    cluster.stop()
    try:
        response = api_client_for("admin", ["monitor"], username="scraper").get("/metrics")
    finally:
        cluster.start()
    assert response.status_code == 200
    found = {family.name: family for family in text_string_to_metric_families(response.content.decode())}
    up = {sample.labels["target"]: sample.value for sample in found["pgdeck_pg_up"].samples}
    assert up["default"] == 1 and up["scratch"] == 0 and up["silent"] == 0
    if registered[2]:
        assert up["pg15"] == 1
        sizes = {sample.labels["target"] for sample in found["pgdeck_pg_database_size_bytes"].samples}
        assert {"default", "pg15"} <= sizes
    status = {(s.labels["target"], s.labels["status"]): s.value for s in found["pgdeck_target_status"].samples}
    assert status[("scratch", "down")] == 1 and status[("silent", "slow")] == 1
    assert all("target" in sample.labels for family in found.values() for sample in family.samples)
