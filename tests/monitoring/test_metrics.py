"""/metrics: Prometheus text format, protected by an API key or the METRICS_ALLOWED_IPS allow-list."""

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families


def families(response):
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def test_metrics_need_a_key_by_default(db):
    response = Client().get("/metrics")
    assert response.status_code == 401 and b"pgdeck_pg" not in response.content


def test_metrics_with_a_monitor_key_parse(api_client_for):
    response = api_client_for("viewer", ["monitor"]).get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    found = families(response)
    assert found["pgdeck_pg_up"].samples[0].value == 1
    states = {sample.labels["state"] for sample in found["pgdeck_pg_connections"].samples}
    assert "active" in states
    assert found["pgdeck_pg_database_size_bytes"].samples[0].value > 0
    assert found["pgdeck_pg_xact_commit"].type == "counter"
    assert found["pgdeck_pg_xact_commit"].samples[0].value > 0
    assert {"pgdeck_pg_cache_hit_ratio", "pgdeck_pg_long_running_queries", "pgdeck_pg_blocked_backends",
            "pgdeck_pool_connections", "pgdeck_pg_tup_inserted"} <= set(found)
    pool = {sample.labels["kind"]: sample.value for sample in found["pgdeck_pool_connections"].samples}
    assert pool["max"] >= pool["size"] >= 1


def test_metrics_refuse_a_key_without_the_scope(api_client_for):
    assert api_client_for("admin", ["write"], username="w").get("/metrics").status_code == 403


def test_metrics_refuse_a_bad_key(db):
    assert Client(HTTP_AUTHORIZATION="Bearer pgd_nope_nope").get("/metrics").status_code == 401


def test_metrics_allow_listed_address_needs_no_key(db, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]
    assert Client().get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.1").get("/metrics").status_code == 401
    # The allow-list reads the socket address, never a header a client can set.
    assert Client(REMOTE_ADDR="192.168.1.1", HTTP_X_FORWARDED_FOR="127.0.0.1").get("/metrics").status_code == 401


def test_metrics_count_long_running_and_blocked(api_client_for, sessions, observer, settings):
    from tests.monitoring.conftest import is_active, wait_for

    settings.MONITORING_LONG_QUERY_SECONDS = 1
    sleeper = sessions()
    sleeper.run("SELECT pg_sleep(60)")
    wait_for(lambda: is_active(observer, sleeper.pid, 1.2), what="pg_sleep")
    found = families(api_client_for("viewer", ["monitor"]).get("/metrics"))
    assert found["pgdeck_pg_long_running_queries"].samples[0].value >= 1


def test_a_malformed_allow_list_entry_is_ignored_not_an_error(db, settings):
    settings.METRICS_ALLOWED_IPS = ["not-an-address", "127.0.0.1"]
    assert Client().get("/metrics").status_code == 200


def test_every_series_is_labelled_with_its_target(api_client_for):
    found = families(api_client_for("viewer", ["monitor"]).get("/metrics"))
    unlabelled = sorted(f"{family.name}: {sample.labels}" for family in found.values() for sample in family.samples
                        if sample.labels.get("target") is None)
    assert not unlabelled, unlabelled
    assert {sample.labels["target"] for sample in found["pgdeck_pg_up"].samples} == {"default"}
    status = {sample.labels["status"]: sample.value for sample in found["pgdeck_target_status"].samples}
    assert status == {"up": 1, "slow": 0, "down": 0}
