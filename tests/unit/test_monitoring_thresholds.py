"""dbtools/monitoring/checks.py: each check's green/amber/red thresholds, on rows given to it (no database)."""

import pytest

from dbtools.monitoring import checks
from dbtools.monitoring.checks import AMBER, GREEN, RED
from dbtools.monitoring.queries import activity, health, replication


@pytest.fixture
def rows(monkeypatch):
    """rows(module, function, value): the query returns `value` (a list, or a dict for standby_status)."""

    def give(module, name, value):
        monkeypatch.setattr(module, name, lambda *args, **kwargs: value)

    return give


@pytest.mark.parametrize("used, expected", [(None, GREEN), (60, GREEN), (74.99, GREEN), (75, AMBER), (89.9, AMBER),
                                            (90, RED), (99, RED)])
def test_sequences(rows, used, expected):
    found = [] if used is None else [{"last_value": used * 100, "max_value": 10000}]
    rows(health, "sequences_near_overflow", found)
    verdict = checks.check_sequences()
    # a sequence past half its range is listed; amber from 75 %, red from 90 %
    assert verdict["status"] == expected
    assert verdict["key"] == "sequences" and len(verdict["rows"]) == len(found)


@pytest.mark.parametrize("percent, expected", [(2, GREEN), (49.9, GREEN), (50, AMBER), (74.9, AMBER), (75, RED)])
def test_wraparound(rows, percent, expected):
    rows(health, "transaction_id_age", [{"percent_towards_wraparound": percent}, {"percent_towards_wraparound": 1}])
    verdict = checks.check_wraparound()
    assert verdict["status"] == expected and f"{percent}%" in verdict["summary"]


def test_wraparound_without_rows_is_green(rows):
    rows(health, "transaction_id_age", [])
    assert checks.check_wraparound()["status"] == GREEN


@pytest.mark.parametrize("idle, expected", [(None, GREEN), (61, AMBER), (599, AMBER), (600, RED)])
def test_idle_in_transaction_scales_with_the_setting(rows, settings, idle, expected):
    settings.MONITORING_IDLE_IN_TRANSACTION_SECONDS = 60
    rows(health, "idle_in_transaction", [] if idle is None else [{"idle_seconds": idle}])
    verdict = checks.check_idle_in_transaction()
    assert verdict["status"] == expected and "60 s" in verdict["summary"]


@pytest.mark.parametrize("dead, live, expected", [
    (None, None, GREEN), (50, 10, AMBER), (100001, 10, RED), (100001, 200000, AMBER), (200000, 100000, RED),
])
def test_vacuum(rows, dead, live, expected):
    rows(health, "tables_needing_vacuum", [] if dead is None else [{"dead_tuples": dead, "live_tuples": live}])
    assert checks.check_vacuum()["status"] == expected


@pytest.mark.parametrize("lag, slot_active, delay, expected", [
    (None, None, None, GREEN), (60, True, None, GREEN), (61, True, None, RED), (0, False, None, AMBER),
    (None, None, 60, GREEN), (None, None, 61, AMBER), (None, None, 301, RED),
])
def test_replication(rows, lag, slot_active, delay, expected):
    rows(replication, "replicas", [] if lag is None else [{"replay_lag_seconds": lag}])
    rows(replication, "slots", [] if slot_active is None else [{"active": slot_active}])
    rows(replication, "standby_status", {} if delay is None else {"in_recovery": True, "replay_delay_seconds": delay})
    verdict = checks.check_replication()
    assert verdict["status"] == expected
    if delay is not None:
        assert "standby" in verdict["summary"]


def watched(**overrides):
    values = {"max_connections": "100", "autovacuum": "on", "fsync": "on", "shared_buffers": "16384",
              "idle_in_transaction_session_timeout": "60000", "track_io_timing": "on", **overrides}
    return [{"name": name, "setting": value, "source": "configuration file"} for name, value in values.items()]


@pytest.mark.parametrize("overrides, connections, expected", [
    ({}, 10, GREEN), ({}, 79, GREEN), ({}, 80, AMBER), ({}, 94, AMBER), ({}, 95, RED),
    ({"autovacuum": "off"}, 1, RED), ({"fsync": "off"}, 1, RED),
    ({"track_io_timing": "off"}, 1, GREEN), ({"idle_in_transaction_session_timeout": "0"}, 1, GREEN),
])
def test_settings(rows, overrides, connections, expected):
    rows(health, "watched_settings", watched(**overrides))
    rows(activity, "state_counts", [{"state": "active", "connections": connections}])
    verdict = checks.check_settings()
    assert verdict["status"] == expected
    assert (verdict["summary"] == "Nothing stands out") == (not overrides and connections < 80)


def test_every_check_is_listed():
    assert [check.__name__ for check in checks.CHECKS] == [
        "check_sequences", "check_wraparound", "check_idle_in_transaction", "check_vacuum", "check_replication",
        "check_settings"]
