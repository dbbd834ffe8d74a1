"""The Jobs screen and the schedule form in chromium: a queued job cancelled, a finished one shown with its
log; a schedule's cron previewed live, a bad one refused as a form error."""

import pytest
from playwright.sync_api import expect

from jobs import starters
from jobs.models import JobRun, Schedule
from tests.browser.conftest import screenshot
from tests.jobs.workers import InlineWorker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_jobs_screen_cancel_and_follow(login, live_server, make_user):
    user = make_user("operator", username="operator")
    queued = starters.noop_job(actor=user)
    page = login(user)
    page.goto(f"{live_server.url}/admin/jobs/jobrun/?state=queued")
    row = page.locator("#result_list tbody tr", has_text="noop")
    expect(row).to_have_count(1)
    screenshot(page, "jobs-queued")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "cancel_jobs")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text(f"Job #{queued.pk}: cancel requested")
    assert JobRun.objects.get(pk=queued.pk).status == "cancelled"

    stats = starters.collect_stats_job(actor=user)
    page.goto(f"{live_server.url}/admin/jobs/jobrun/")
    with InlineWorker():  # the page reloads itself while a job is queued or running
        expect(page.locator("#result_list tbody tr", has_text="collect_stats")).to_contain_text(
            "succeeded", timeout=60000)
    screenshot(page, "jobs-list")
    page.goto(f"{live_server.url}/admin/jobs/jobrun/{stats.pk}/change/")
    expect(page.locator(".job-log")).to_contain_text("started on inline")
    screenshot(page, "jobs-detail")


def test_schedule_form_previews_cron_and_refuses_a_bad_one(login, live_server, make_user):
    page = login(make_user("operator", username="operator"))
    page.goto(f"{live_server.url}/admin/jobs/schedule/add/")
    page.fill("#id_name", "nightly backup")
    page.select_option("#id_kind", "backup")
    page.fill("#id_cron", "30 2 * * *")
    expect(page.locator("#cron-preview")).to_contain_text("At 02:30 AM")
    expect(page.locator("#cron-preview li")).to_have_count(5)
    screenshot(page, "schedule-preview")
    page.fill("#id_cron", "30 25 * * *")
    expect(page.locator("#cron-preview")).to_contain_text("not a valid cron schedule")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("not a valid cron schedule")
    screenshot(page, "schedule-bad-cron")
    assert not Schedule.objects.exists()
    page.fill("#id_cron", "30 2 * * *")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Schedule.objects.get().cron == "30 2 * * *"
