"""Jobs through their public entry points, run in this process (jobs.inline) inside the test transaction:
the API, the admin's Jobs screen and schedule form, cancel, retry, schedules and snapshots."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dbtools.models import AuditEvent, SavedQuery, StatsSnapshot
from jobs import starters
from jobs.inline import run_queued
from jobs.models import JobRun, QuerySnapshot, Schedule
from jobs.schedules import schedules_dispatch
from tests.api.conftest import error_of
from tests.query.conftest import query_role  # noqa: F401  (session fixture: the query roles on the test DB)

pytestmark = pytest.mark.django_db


def queue_status(run):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", [run.queue_job_id])
        return cursor.fetchone()[0]


def test_a_job_records_who_what_and_how_long(admin_user):
    run = starters.collect_stats_job(actor=admin_user)
    assert (run.status, run.started_by, queue_status(run)) == ("queued", "admin", "todo")
    assert run_queued() == 1
    run.refresh_from_db()
    assert run.status == "succeeded" and run.duration is not None and run.duration >= 0
    assert StatsSnapshot.objects.filter(pk=run.result["snapshot"]).exists()
    assert "started on inline" in run.log and queue_status(run) == "succeeded"


def test_api_lists_filters_and_shows_jobs(api_as, admin_user):
    done = starters.noop_job(actor=admin_user)
    run_queued()
    queued = starters.noop_job(actor=admin_user)
    client = api_as("operator", scopes=["read"])
    body = client.get("/api/v1/jobs?status=queued").json()
    assert [row["id"] for row in body["results"]] == [queued.pk] and body["next"] is None
    detail = client.get(f"/api/v1/jobs/{done.pk}").json()
    assert detail["status"] == "succeeded" and detail["started_by"] == "admin" and detail["log"]
    assert error_of(client.get("/api/v1/jobs?status=bogus"))["code"] == "invalid"
    assert error_of(client.get("/api/v1/jobs?limit=5"))["code"] == "unknown_parameter"
    assert error_of(client.get("/api/v1/jobs/999999")).get("code") == "not_found"


def test_api_cancel_a_queued_job_it_never_runs(api_as, admin_user):
    run = starters.noop_job(actor=admin_user)
    client = api_as("operator", scopes=["operate"])
    response = client.post(f"/api/v1/jobs/{run.pk}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert run_queued() == 0 and queue_status(run) == "cancelled"
    again = client.post(f"/api/v1/jobs/{run.pk}/cancel")
    assert again.status_code == 409 and "already cancelled" in error_of(again)["message"]
    assert AuditEvent.objects.filter(action="job.cancel").count() == 1


def test_api_refuses_cancel_without_the_permission(api_as, admin_user):
    run = starters.noop_job(actor=admin_user)
    response = api_as("operator", scopes=["read"]).post(f"/api/v1/jobs/{run.pk}/cancel")
    assert response.status_code == 403
    response = api_as("viewer", scopes=["read"]).get("/api/v1/jobs")
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == "queued" and queue_status(run) == "todo"


def test_retry_a_failed_job_starts_a_new_one(api_as, admin_user):
    schedule = Schedule.objects.create(name="orphan", kind="snapshot", cron="0 * * * *")
    failed = starters.snapshot_job(schedule, actor=admin_user)
    run_queued()
    failed.refresh_from_db()
    assert failed.status == "failed" and "saved query was deleted" in failed.error
    assert AuditEvent.objects.filter(action="schedule.failed", target="orphan").exists()
    client = api_as("operator", scopes=["operate"])
    response = client.post(f"/api/v1/jobs/{failed.pk}/retry")
    assert response.status_code == 202 and response.json()["retry_of"] == failed.pk
    ok = starters.noop_job(actor=admin_user)
    assert client.post(f"/api/v1/jobs/{ok.pk}/retry").status_code == 409  # only failed or cancelled ones


def test_two_backups_of_one_database_share_a_lock_and_a_restore_locks_its_target(admin_user, settings, tmp_path):
    from django.db import connection

    from dbtools.backups import jobs as backup_jobs

    settings.BACKUP_DIR = tmp_path
    settings.RESTORE_REQUIRES_VERIFIED_BACKUP_MINUTES = 0
    first = backup_jobs.backup_start(actor=admin_user).jobrun
    second = backup_jobs.backup_start(actor=admin_user).jobrun
    (tmp_path / "x.dump").write_bytes(b"PGDMP")
    restore = starters.restore_job(actor=admin_user, path=tmp_path / "x.dump", target=first.target, confirmed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT lock FROM procrastinate_jobs WHERE id = ANY(%s)",
                       [[first.queue_job_id, second.queue_job_id, restore.queue_job_id]])
        locks = {row[0] for row in cursor.fetchall()}
    assert locks == {f"database:{first.target}"}


def test_admin_jobs_screen_filters_and_cancels(client_for, admin_user):
    run = starters.noop_job(actor=admin_user)
    client = client_for("operator")
    page = client.get("/admin/jobs/jobrun/?state=queued")
    assert page.status_code == 200 and f">{run.pk}<".encode() in page.content and b"jobs.js" in page.content
    assert b'data-active="true"' in page.content  # a queued job: the screen refreshes itself
    response = client.post("/admin/jobs/jobrun/", {"action": "cancel_jobs", "_selected_action": [run.pk]},
                           follow=True)
    assert b"cancel requested" in response.content
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert b'data-active="false"' in client.get("/admin/jobs/jobrun/").content
    assert client_for("viewer", username="v1").get("/admin/jobs/jobrun/").status_code == 403


def test_schedule_form_rejects_a_bad_cron_and_saves_nothing(client_for):
    client = client_for("operator")
    data = {"name": "nightly", "kind": "backup", "cron": "61 2 * * *", "enabled": "on", "keep_last": 7,
            "email_to": ""}
    response = client.post("/admin/jobs/schedule/add/", data)
    assert response.status_code == 200 and b"errorlist" in response.content
    assert b"not a valid cron schedule" in response.content and not Schedule.objects.exists()
    response = client.post("/admin/jobs/schedule/add/", {**data, "cron": "0 2 * *"})
    assert b"five fields" in response.content and not Schedule.objects.exists()
    response = client.post("/admin/jobs/schedule/add/", {**data, "cron": "0 2 * * *"})
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    page = client.get(f"/admin/jobs/schedule/{schedule.pk}/change/")
    assert b"At 02:00 AM" in page.content and page.content.count(b"02:00</li>") == 5
    preview = client.get("/admin/jobs/schedule/preview.json?cron=*/5+*+*+*+*").json()
    assert preview["ok"] and preview["description"] == "Every 5 minutes" and len(preview["next"]) == 5
    assert client.get("/admin/jobs/schedule/preview.json?cron=bogus").json()["ok"] is False


def test_snapshot_schedule_form_needs_a_saved_query(client_for):
    data = {"name": "report", "kind": "snapshot", "cron": "0 * * * *", "keep_last": 3, "email_to": "not-mail"}
    response = client_for("operator").post("/admin/jobs/schedule/add/", data)
    assert b"choose one" in response.content and b"is not an email address" in response.content
    assert not Schedule.objects.exists()


def test_due_schedules_start_once_per_due_time(admin_user):
    created = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    stats = Schedule.objects.create(name="stats", kind="collect_stats", cron="*/5 * * * *")
    Schedule.objects.filter(pk=stats.pk).update(created_at=created)
    assert schedules_dispatch(now=created + timedelta(minutes=4)) == []
    assert schedules_dispatch(now=created + timedelta(minutes=5)) == ["stats"]
    assert schedules_dispatch(now=created + timedelta(minutes=6)) == []  # already started for 00:05
    run = JobRun.objects.get(schedule=stats)
    assert run.kind == "collect_stats" and run.started_by == "schedule:stats"


def test_nightly_backup_schedule_keeps_the_last_n(admin_user, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    nightly = Schedule.objects.create(name="nightly", kind="backup", cron="0 2 * * *", keep_last=1)
    from jobs.schedules import schedule_start

    for _ in range(2):
        schedule_start(nightly)
        run_queued()
    runs = list(JobRun.objects.filter(schedule=nightly).order_by("pk"))
    assert [r.status for r in runs] == ["succeeded", "succeeded"], [r.error for r in runs]
    assert runs[1].result["pruned"] == [runs[0].result["backup"]]


def test_scheduled_saved_query_keeps_last_n_and_mails_csv(admin_user, query_role, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    saved = SavedQuery.objects.create(name="two rows", sql="SELECT 1 AS n, 'a,b' AS s UNION ALL SELECT 2, 'c'",
                                      owner=admin_user)
    schedule = Schedule.objects.create(name="report", kind="snapshot", cron="0 * * * *", saved_query=saved,
                                       keep_last=2, email_to="ops@example.com")
    for _ in range(3):
        starters.snapshot_job(schedule, actor="schedule:report")
        run_queued()
    snaps = list(QuerySnapshot.objects.filter(schedule=schedule))
    assert len(snaps) == 2 and snaps[0].rows == [[1, "a,b"], [2, "c"]]
    assert len(mail.outbox) == 3 and mail.outbox[0].to == ["ops@example.com"]
    name, body, mimetype = mail.outbox[0].attachments[0]
    assert name == "report.csv" and body.splitlines() == ["n,s", '1,"a,b"', "2,c"] and mimetype == "text/csv"


def test_running_job_is_not_cancelled_by_a_finished_check(admin_user):
    run = starters.noop_job(actor=admin_user)
    run_queued()
    from jobs.errors import JobError
    from jobs.services import job_cancel

    with pytest.raises(JobError, match="already succeeded"):
        job_cancel(JobRun.objects.get(pk=run.pk), actor=admin_user)
    assert timezone.now() >= JobRun.objects.get(pk=run.pk).finished_at
