"""An API key limited to one of three registered targets (ApiKey.targets) sees only that target: in the
targets list and detail, the fleet overview's API and the /metrics series (key-authenticated). A key without a
limit sees every target its owner may use."""

import pytest
from django.test import Client

from accounts.models import ApiKey
from dbtools.monitoring import fleet
from tests.conftest import legacy_api_key
from tests.servers import free_port
from tests.targets_tools.conftest import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(db, settings):
    settings.METRICS_ALLOWED_IPS = []  # /metrics by key only
    settings.FLEET_DEADLINE_SECONDS = 2
    fleet.forget()
    names = ["t1", "t2", "t3"]
    for name in names:  # refused ports: each probe answers "down" at once
        register(name, host="127.0.0.1", port=free_port(), dbname="x", user="x", sslmode="disable")
    yield names
    fleet.forget()


def key_client(user, name, targets=None):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(user, ['admin'], name=name)}")
    if targets is not None:
        ApiKey.objects.filter(name=name).update(targets=targets)
    return client


def metric_targets(text):
    return {line.split('target="', 1)[1].split('"', 1)[0] for line in text.splitlines()
            if not line.startswith("#") and 'target="' in line}


def test_a_key_limited_to_one_target_sees_only_it(make_user, three):
    admin = make_user("admin", username="root")
    limited, full = key_client(admin, "only-t2", ["t2"]), key_client(admin, "all")

    assert [row["name"] for row in limited.get("/api/v1/targets").json()["results"]] == ["t2"]
    assert {row["name"] for row in full.get("/api/v1/targets").json()["results"]} == {"default", "t1", "t2", "t3"}
    assert limited.get("/api/v1/targets/t2").status_code == 200
    hidden = limited.get("/api/v1/targets/t1")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "target_not_found"

    fleet_rows = limited.get("/api/v1/monitoring/fleet").json()
    assert [row["target"] for row in fleet_rows["targets"]] == ["t2"]
    assert fleet_rows["summary"]["down"] == 1
    assert {row["target"] for row in full.get("/api/v1/monitoring/fleet").json()["targets"]} == {
        "default", "t1", "t2", "t3"}

    limited_metrics = limited.get("/metrics")
    assert limited_metrics.status_code == 200
    assert metric_targets(limited_metrics.content.decode()) == {"t2"}
    assert metric_targets(full.get("/metrics").content.decode()) == {"default", "t1", "t2", "t3"}


def test_a_key_limited_to_default_keeps_the_apps_own_series(make_user, three):
    client = key_client(make_user("admin", username="root"), "only-default", ["default"])
    assert metric_targets(client.get("/metrics").content.decode()) == {"default"}
    assert [row["name"] for row in client.get("/api/v1/targets").json()["results"]] == ["default"]
