"""Admin screens of backups: changelist at /admin/dbtools/backups/, create in the background, verify, download,
delete, restore (admins only, behind a confirmation naming the target database)."""

import os
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from dbtools.backups import jobs
from dbtools.models import AuditEvent, Backup
from jobs.inline import run_queued
from jobs.models import JobRun
from tests.backups.conftest import run_sql, table_counts


def make_backup(source_db):
    call_command("dbbackup", "--source-db", source_db, stdout=StringIO())
    return Backup.objects.order_by("-pk").first()


@pytest.mark.django_db
def test_changelist_at_the_exact_url(client_for, source_db, backup_dir):
    row = make_backup(source_db)
    response = client_for("operator").get("/admin/dbtools/backups/")
    assert response.status_code == 200
    assert Path(row.file).name.encode() in response.content and b"Create backup" in response.content
    assert client_for("operator", username="op2").get("/admin/dbtools/backup/").url == "/admin/dbtools/backups/"
    assert b"Backups" in client_for("operator", username="op3").get("/admin/").content


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_viewer_and_analyst_are_denied(role, client_for, source_db, backup_dir):
    row = make_backup(source_db)
    client = client_for(role)
    for url in ("/admin/dbtools/backups/", "/admin/dbtools/backups/create/", f"/admin/dbtools/backups/{row.pk}/",
                f"/admin/dbtools/backups/{row.pk}/download/", f"/admin/dbtools/backups/{row.pk}/restore/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/dbtools/backups/{row.pk}/delete/").status_code == 403
    assert Path(row.file).exists() and Backup.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_operator_creates_in_background_and_verifies(client_for, backup_dir):
    client = client_for("operator")
    response = client.post("/admin/dbtools/backups/create/", {"format": "custom", "verify": "on"})
    backup = Backup.objects.get()
    assert response.status_code == 302 and response.url == f"/admin/dbtools/backups/{backup.pk}/"
    jobs.wait_all()
    status = client.get(f"/admin/dbtools/backups/{backup.pk}/status.json").json()
    assert status["status"] == "success" and status["verify_ok"] is True, status
    assert status["user"] == "operator-user" and "accounts_user" in " ".join(status["tables"])
    page = client.get(f"/admin/dbtools/backups/{backup.pk}/")
    assert b"status.js" in page.content and b"Restore" not in page.content
    client.post(f"/admin/dbtools/backups/{backup.pk}/verify/")
    jobs.wait_all()
    backup.refresh_from_db()
    assert backup.verify_ok is True
    assert AuditEvent.objects.filter(action="backup.verify").count() == 2


@pytest.mark.django_db
def test_create_form_errors_lose_nothing(client_for, backup_dir, settings):
    settings.BACKUP_ENCRYPTION_KEY = ""
    response = client_for("operator").post("/admin/dbtools/backups/create/", {"format": "custom", "encrypt": "on"})
    assert response.status_code == 200 and b"BACKUP_ENCRYPTION_KEY is not set" in response.content
    response = client_for("operator", username="o2").post("/admin/dbtools/backups/create/", {"format": "tar"})
    assert response.status_code == 200 and b"errorlist" in response.content
    assert Backup.objects.count() == 0 and list(backup_dir.iterdir()) == []


@pytest.mark.django_db
def test_download_is_streamed_and_audited(client_for, source_db, backup_dir):
    row = make_backup(source_db)
    response = client_for("operator").get(f"/admin/dbtools/backups/{row.pk}/download/")
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == Path(row.file).read_bytes()
    assert Path(row.file).name in response["Content-Disposition"]
    assert AuditEvent.objects.get(action="backup.download").actor_name == "operator-user"


@pytest.mark.django_db
def test_delete_removes_files_and_row(client_for, source_db, backup_dir):
    row = make_backup(source_db)
    client = client_for("operator")
    assert b"Yes, delete it" in client.get(f"/admin/dbtools/backups/{row.pk}/delete/").content
    response = client.post(f"/admin/dbtools/backups/{row.pk}/delete/")
    assert response.status_code == 302 and not Backup.objects.exists()
    assert list(backup_dir.iterdir()) == []
    assert AuditEvent.objects.filter(action="backup.delete").exists()


@pytest.mark.django_db
def test_only_admin_restores_behind_a_confirmation(client_for, source_db, databases, backup_dir):
    row = make_backup(source_db)
    url = f"/admin/dbtools/backups/{row.pk}/restore/"
    assert client_for("operator").post(url, {"target_db": "x", "confirm": "x"}).status_code == 403
    admin = client_for("admin", username="admin")
    page = admin.get(url)
    assert page.status_code == 200 and b"test_pgdeck" in page.content
    target = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    run_sql(target, "DELETE FROM articles; DELETE FROM authors WHERE id <> 9")
    wrong = admin.post(url, {"target_db": target, "confirm": "something else"})
    assert wrong.status_code == 200 and b"exactly the target database" in wrong.content
    assert run_sql(target, "SELECT id FROM authors") == [(9,)]
    done = admin.post(url, {"target_db": target, "confirm": target})
    run = JobRun.objects.get(kind="restore", target=target, params__create=False)
    assert done.status_code == 302 and done["Location"] == f"/admin/jobs/jobrun/{run.pk}/change/"
    assert run.status == "queued" and run.started_by == "admin"
    assert run_sql(target, "SELECT id FROM authors") == [(9,)]  # a worker restores it, not the request
    run_queued()
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert table_counts(target) == (50, 700, 30)
    assert AuditEvent.objects.filter(action="backup.restore").latest("pk").details["database"] == target


@pytest.mark.django_db
def test_admin_restore_checks_are_form_errors_and_a_failed_restore_fails_its_job(client_for, source_db, databases,
                                                                                  backup_dir):
    row = make_backup(source_db)
    target = databases.reserve()
    url = f"/admin/dbtools/backups/{row.pk}/restore/"
    admin = client_for("admin", username="admin")
    missing = admin.post(url, {"target_db": target, "confirm": target})
    assert missing.status_code == 200 and b"add --create to create it" in missing.content
    assert not JobRun.objects.filter(kind="restore").exists()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    run_sql(target, "CREATE VIEW v AS SELECT * FROM articles; "
                    "ALTER TABLE articles ADD CONSTRAINT no_rows CHECK (false) NOT VALID")
    assert admin.post(url, {"target_db": target, "confirm": target}).status_code == 302
    run_queued()
    run = JobRun.objects.filter(kind="restore").latest("pk")
    assert run.status == "failed" and "rolled back" in run.error
    assert b"rolled back" in admin.get(f"/admin/jobs/jobrun/{run.pk}/change/").content
    assert run_sql(target, "SELECT count(*) FROM v") == [(700,)]


@pytest.mark.django_db
def test_running_backup_cannot_be_deleted_until_stale(client_for, backup_dir):
    row = Backup.objects.create(file=str(backup_dir / "x.dump"), status="running")
    (backup_dir / "x.dump.partial").write_bytes(b"PGDMP")
    client = client_for("operator")
    assert b"Delete" not in client.get(f"/admin/dbtools/backups/{row.pk}/").content
    client.post(f"/admin/dbtools/backups/{row.pk}/delete/")
    assert Backup.objects.filter(pk=row.pk).exists() and (backup_dir / "x.dump.partial").exists()
    Backup.objects.filter(pk=row.pk).update(started_at=timezone.now() - timedelta(hours=2))
    old = (timezone.now() - timedelta(hours=2)).timestamp()
    os.utime(backup_dir / "x.dump.partial", (old, old))
    assert b"Delete" in client.get(f"/admin/dbtools/backups/{row.pk}/").content
    client.post(f"/admin/dbtools/backups/{row.pk}/delete/")
    assert not Backup.objects.filter(pk=row.pk).exists() and list(backup_dir.iterdir()) == []


@pytest.mark.django_db
def test_admin_restore_over_live_needs_a_recent_verified_backup(client_for, source_db, databases, backup_dir,
                                                                 settings, monkeypatch):
    """The same check as dbrestore's (services.restore_authorize), answered as a form error."""
    row = make_backup(source_db)
    live = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", live, "--create", stdout=StringIO())
    run_sql(live, "DELETE FROM articles")
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", live)
    url = f"/admin/dbtools/backups/{row.pk}/restore/"
    admin = client_for("admin", username="admin")
    refused = admin.post(url, {"target_db": live, "confirm": live})
    assert refused.status_code == 200 and b"needs a full backup of it, verified" in refused.content
    assert table_counts(live) == (50, 0, 30)
    call_command("dbbackup", "--verify", stdout=StringIO())
    assert admin.post(url, {"target_db": live, "confirm": live}).status_code == 302
    run_queued()
    assert table_counts(live) == (50, 700, 30)
