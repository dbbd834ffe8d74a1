"""Settings tune: current pg_settings next to suggestions for the machine, each with why; bad input is a form error."""

import pytest

URL = "/admin/dbtools/monitoring/tuning/"


def rows_by_name(response):
    return {row["name"]: row for section in response.context["sections"] for row in section["rows"]}


def test_suggestions_follow_the_machine_and_show_the_current_values(client_for):
    response = client_for("viewer").get(URL, {"ram_gb": "16", "cpus": "8", "storage": "ssd"})
    assert response.status_code == 200 and not response.context.get("query_error")
    rows = rows_by_name(response)
    assert rows["shared_buffers"]["suggested"] == "4 GB" and rows["effective_cache_size"]["suggested"] == "12 GB"
    assert rows["maintenance_work_mem"]["suggested"] == "1 GB" and rows["random_page_cost"]["suggested"] == "1.1"
    assert rows["max_parallel_workers_per_gather"]["suggested"] == "4"
    assert rows["shared_buffers"]["current"].endswith("MB") or rows["shared_buffers"]["current"].endswith("GB")
    assert all(row["why"] for row in rows.values())
    assert {s["title"] for s in response.context["sections"]} == {
        "Memory", "WAL and checkpoints", "Planner and parallelism", "Autovacuum", "Connections"}
    hdd = rows_by_name(client_for("viewer", username="v2").get(URL, {"ram_gb": "2", "cpus": "2", "storage": "hdd"}))
    assert hdd["random_page_cost"]["suggested"] == "4" and hdd["shared_buffers"]["suggested"] == "512 MB"


def test_a_setting_far_from_the_suggestion_is_marked_for_review(client_for):
    response = client_for("viewer").get(URL, {"ram_gb": "1024", "cpus": "64", "storage": "ssd"})
    assert rows_by_name(response)["shared_buffers"]["status"] == "review"  # nobody runs 256 GB buffers in a test
    assert b'data-setting="shared_buffers"' in response.content


@pytest.mark.parametrize("params", [{"ram_gb": "-1", "cpus": "4", "storage": "ssd"},
                                    {"ram_gb": "8", "cpus": "many", "storage": "ssd"},
                                    {"ram_gb": "8", "cpus": "4", "storage": "tape"}])
def test_bad_machine_input_is_a_form_error(client_for, params):
    response = client_for("viewer").get(URL, params)
    assert response.status_code == 200 and response.context["form"].errors and response.context["sections"] == []
