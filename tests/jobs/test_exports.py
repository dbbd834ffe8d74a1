"""Query exports as jobs (issue 16): written to a file by the job, downloadable when done by whoever started
it, never while running or after a failure; a bad export fails its job with a one-line error and leaves no file."""

import pytest

from jobs import starters
from jobs.errors import JobError
from jobs.exports import export_path
from jobs.inline import run_queued
from jobs.models import JobRun
from tests.api.conftest import error_of
from tests.query.conftest import query_role  # noqa: F401  (session fixture: the query roles on the test DB)

pytestmark = pytest.mark.django_db

SQL = "SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 3) g"


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def test_export_job_writes_a_file_downloaded_by_its_user_only(client_for, make_user, export_dir):
    analyst = make_user("analyst", username="ann")
    run = starters.export_job(actor=analyst, sql_text=SQL, fmt="csv")
    client = client_for("analyst", username="ann2")
    client.force_login(analyst)
    page = client.get(f"/admin/jobs/jobrun/{run.pk}/change/")
    assert b"offered once the export has succeeded" in page.content
    early = client.get(f"/admin/jobs/jobrun/{run.pk}/download/", follow=True)
    assert b"is queued: its file is offered once it has succeeded" in early.content
    assert run_queued() == 1
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.result["rows"] == 3 and run.target
    assert sorted(p.name for p in export_dir.iterdir()) == [f"export-{run.pk}.csv"]
    response = client.get(f"/admin/jobs/jobrun/{run.pk}/download/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).decode().splitlines() == ["n,label", "1,row 1", "2,row 2",
                                                                         "3,row 3"]
    other = client_for("analyst", username="bob")
    assert other.get(f"/admin/jobs/jobrun/{run.pk}/download/").status_code == 403


def test_a_failing_export_fails_its_job_and_leaves_no_file(make_user, export_dir):
    analyst = make_user("analyst", username="ann")
    run = starters.export_job(actor=analyst, sql_text="SELECT 1/0 FROM generate_series(1, 3)", fmt="json")
    run_queued()
    run.refresh_from_db()
    assert run.status == "failed" and "division by zero" in run.error and "\n" not in run.error
    assert not export_dir.exists() or list(export_dir.iterdir()) == []
    with pytest.raises(JobError, match="is failed"):
        from jobs.exports import export_download

        export_download(run, analyst)
    assert not export_path(run).exists()


def test_export_job_requests_are_checked_when_queued(make_user, export_dir):
    with pytest.raises(PermissionError, match="export_query"):
        starters.export_job(actor=make_user("viewer", username="v"), sql_text=SQL)
    with pytest.raises(JobError, match="unknown export format"):
        starters.export_job(actor=make_user("analyst", username="a"), sql_text=SQL, fmt="xlsx")
    with pytest.raises(PermissionError, match="as a user"):
        starters.export_job(actor="os:root", sql_text=SQL)
    assert not JobRun.objects.exists()


def test_an_export_and_a_restore_of_one_database_share_its_lock(make_user, admin_user, export_dir):
    from django.db import connection

    from dbtools.backups import jobs as backup_jobs

    export = starters.export_job(actor=make_user("analyst", username="a"), sql_text=SQL)
    backup = backup_jobs.backup_start(actor=admin_user).jobrun
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT lock FROM procrastinate_jobs WHERE id = ANY(%s)",
                       [[export.queue_job_id, backup.queue_job_id]])
        assert cursor.fetchall() == [(f"database:{export.target}",)]


def test_a_user_who_exports_sees_only_their_own_export_jobs(client_for, make_user, admin_user, export_dir):
    analyst = make_user("analyst", username="ann")
    mine = starters.export_job(actor=analyst, sql_text=SQL)
    theirs = starters.export_job(actor=make_user("analyst", username="bob"), sql_text=SQL)
    noop = starters.noop_job(actor=admin_user)
    client = client_for("viewer", username="v")
    client.force_login(analyst)
    page = client.get("/admin/jobs/jobrun/")
    assert page.status_code == 200 and f">{mine.pk}<".encode() in page.content
    assert f">{theirs.pk}<".encode() not in page.content and f">{noop.pk}<".encode() not in page.content
    assert client.get(f"/admin/jobs/jobrun/{theirs.pk}/change/").status_code == 302  # not found for them
    assert b"cancel_jobs" not in page.content


def test_api_queues_an_export_and_serves_its_file_when_done(api_as, export_dir):
    client = api_as("analyst", scopes=["query"])
    response = client.post("/api/v1/jobs/exports", {"sql": SQL, "format": "ndjson"}, format="json")
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["kind"] == "export" and job["status"] == "queued"
    early = client.get(f"/api/v1/jobs/{job['id']}/download")
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_available"
    assert client.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "queued"  # their own job: visible
    run_queued()
    assert client.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "succeeded"
    done = client.get(f"/api/v1/jobs/{job['id']}/download")
    assert done.status_code == 200
    lines = b"".join(done.streaming_content).decode().splitlines()
    assert lines == ['{"n":1,"label":"row 1"}', '{"n":2,"label":"row 2"}', '{"n":3,"label":"row 3"}']
    assert client.get("/api/v1/jobs").status_code == 403  # not the whole list
    bad = client.post("/api/v1/jobs/exports", {"sql": SQL, "format": "xlsx"}, format="json")
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid"
    unknown = client.post("/api/v1/jobs/exports", {"sql": SQL, "limit": 5}, format="json")
    assert unknown.status_code == 400
    for params in ({"a\u0000": 1}, {"a": ["x\u0000"]}):  # jsonb text holds no NUL: a 400, not a 500 at insert
        nul = client.post("/api/v1/jobs/exports", {"sql": SQL, "params": params}, format="json")
        assert nul.status_code == 400 and "NUL" in error_of(nul)["message"], nul.content
    assert JobRun.objects.count() == 1
    other = api_as("analyst", scopes=["query"], username="other-analyst")
    assert other.get(f"/api/v1/jobs/{job['id']}/download").status_code == 403
    assert other.get(f"/api/v1/jobs/{job['id']}").status_code == 404


def test_editor_button_queues_an_export_job_and_its_page_offers_the_file(client_for, export_dir):
    client = client_for("analyst", username="ann")
    editor = client.get("/admin/dbtools/query/")
    assert b'value="export_job"' in editor.content
    response = client.post("/admin/dbtools/query/", {"sql": SQL, "action": "export_job", "limit": 100})
    run = JobRun.objects.get(kind="export")
    assert response.status_code == 302 and response["Location"] == f"/admin/jobs/jobrun/{run.pk}/change/"
    run_queued()
    page = client.get(response["Location"])
    assert f'/admin/jobs/jobrun/{run.pk}/download/'.encode() in page.content and b"query-" in page.content
    assert client.get(f"/admin/jobs/jobrun/{run.pk}/download/").status_code == 200


def test_retention_removes_old_export_files_with_their_download_offers_and_dead_partials(
        api_as, client_for, admin_user, export_dir, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.JOBS_EXPORT_RETENTION_HOURS = 24
    client = api_as("analyst", scopes=["query"])
    old, fresh = (client.post("/api/v1/jobs/exports", {"sql": SQL, "format": "csv"}, format="json").json()["id"]
                  for _ in range(2))
    run_queued()
    JobRun.objects.filter(pk=old).update(finished_at=timezone.now() - timedelta(hours=25))
    # Leftovers: the .partial of a job whose worker died (failed), one of a job still running, a file no row offers.
    owner = JobRun.objects.get(pk=old).user
    dead, running = (JobRun.objects.create(kind="export", status=status, user=owner, started_by=owner.username,
                                           params={"format": "csv"}) for status in ("failed", "running"))
    for name in (f"export-{dead.pk}.csv.partial", f"export-{running.pk}.csv.partial", "export-999999.csv"):
        (export_dir / name).write_text("n\n1\n")

    retention = starters.retention_job(actor=admin_user)
    assert run_queued() == 1
    retention.refresh_from_db()
    assert retention.status == "succeeded", retention.error
    assert sorted(retention.result["exports_pruned"]) == sorted(
        [f"export-{old}.csv", f"export-{dead.pk}.csv.partial", "export-999999.csv"])
    assert sorted(p.name for p in export_dir.iterdir()) == sorted(
        [f"export-{fresh}.csv", f"export-{running.pk}.csv.partial"])
    assert "pruned_at" in JobRun.objects.get(pk=old).result

    gone = client.get(f"/api/v1/jobs/{old}/download")
    assert gone.status_code == 410 and error_of(gone)["code"] == "gone"
    assert "has been removed (exports are kept 24 h)" in error_of(gone)["message"]
    assert client.get(f"/api/v1/jobs/{fresh}/download").status_code == 200
    # A file removed behind the row's back (another node's prune a moment ago) is a 410 too, not a 500.
    (export_dir / f"export-{fresh}.csv").unlink()
    assert client.get(f"/api/v1/jobs/{fresh}/download").status_code == 410
    browser = client_for("viewer", username="v")
    browser.force_login(owner)
    page = browser.get(f"/admin/jobs/jobrun/{old}/change/")
    assert b"removed by retention" in page.content
    admin_download = browser.get(f"/admin/jobs/jobrun/{old}/download/", follow=True)
    assert b"has been removed" in admin_download.content
