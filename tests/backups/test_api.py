"""/api/v1/backups: permissions by role and key scope, background create and verify, streamed download."""

import io
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.services import api_key_create
from dbtools.backups import jobs
from dbtools.models import AuditEvent, Backup
from tests.conftest import legacy_api_key


def api(make_user, role, scopes, username=None):
    user = make_user(role, username=username or f"{role}-{'-'.join(scopes)}")
    _key, plaintext = api_key_create(user=user, name="t", scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def make_backup(source_db, *args):
    call_command("dbbackup", "--source-db", source_db, *args, stdout=StringIO())
    return Backup.objects.order_by("-pk").first()


@pytest.mark.django_db
def test_read_scope_lists_but_cannot_create(make_user, source_db, backup_dir):
    row = make_backup(source_db)
    client = api(make_user, "operator", ["read"])
    listing = client.get("/api/v1/backups")
    assert listing.status_code == 200 and listing.json()["results"][0]["id"] == row.pk
    assert client.get(f"/api/v1/backups/{row.pk}").json()["checksum"] == row.checksum
    denied = client.post("/api/v1/backups", {}, content_type="application/json")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    assert client.get(f"/api/v1/backups/{row.pk}/download").status_code == 403
    assert client.post(f"/api/v1/backups/{row.pk}/verify").status_code == 403
    assert Backup.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_viewer_and_analyst_denied_even_with_admin_scope(role, make_user, source_db, backup_dir):
    row = make_backup(source_db)
    user = make_user(role, username=f"{role}-admin-scope")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(user, ['admin'])}")
    assert client.get("/api/v1/backups").status_code == 403
    assert client.get(f"/api/v1/backups/{row.pk}/download").status_code == 403
    assert client.post("/api/v1/backups", {}, content_type="application/json").status_code == 403
    assert Backup.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_operate_scope_creates_downloads_and_verifies(make_user, backup_dir):
    client = api(make_user, "operator", ["operate"])
    created = client.post("/api/v1/backups", {"format": "plain"}, content_type="application/json")
    assert created.status_code == 202 and created.json()["status"] == "running"
    jobs.wait_all()
    pk = created.json()["id"]
    detail = client.get(f"/api/v1/backups/{pk}").json()
    assert detail["status"] == "success" and detail["size"] > 0
    download = client.get(f"/api/v1/backups/{pk}/download")
    assert download.status_code == 200 and download.streaming
    assert b"".join(download.streaming_content) == Path(detail["file"]).read_bytes()
    verify = client.post(f"/api/v1/backups/{pk}/verify")
    assert verify.status_code == 202 and verify.json()["verify_result"] == "running"
    jobs.wait_all()
    assert client.get(f"/api/v1/backups/{pk}").json()["verify_ok"] is True
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"backup.create", "backup.download", "backup.verify"} <= actions


@pytest.mark.django_db
def test_api_errors(make_user, source_db, backup_dir, settings):
    settings.BACKUP_ENCRYPTION_KEY = ""
    client = api(make_user, "operator", ["operate"])
    bad = client.post("/api/v1/backups", {"format": "zip"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    nokey = client.post("/api/v1/backups", {"encrypt": True}, content_type="application/json")
    assert nokey.status_code == 400 and "BACKUP_ENCRYPTION_KEY" in nokey.json()["error"]["message"]
    assert client.get("/api/v1/backups/999999").json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/backups?limit=x").status_code == 400
    Backup.objects.create(file=str(backup_dir / "gone.dump"), status="failed", error="boom")
    failed = Backup.objects.get()
    conflict = client.post(f"/api/v1/backups/{failed.pk}/verify")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"
    assert client.get(f"/api/v1/backups/{failed.pk}/download").status_code == 409
    assert Backup.objects.count() == 1 and list(backup_dir.iterdir()) == []


@pytest.mark.django_db
def test_directory_backup_downloads_as_tar(make_user, source_db, backup_dir):
    row = make_backup(source_db, "--format", "directory")
    client = api(make_user, "operator", ["operate"])
    response = client.get(f"/api/v1/backups/{row.pk}/download")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(b"".join(response.streaming_content))) as tar:
        names = tar.getnames()
        assert f"{Path(row.file).name}/toc.dat" in names
        toc = tar.extractfile(f"{Path(row.file).name}/toc.dat").read()
    assert toc == (Path(row.file) / "toc.dat").read_bytes()


@pytest.mark.django_db(transaction=True)
def test_verify_of_a_backup_whose_file_is_gone_is_recorded(make_user, source_db, backup_dir):
    row = make_backup(source_db)
    Path(row.file).unlink()
    response = api(make_user, "operator", ["operate"]).post(f"/api/v1/backups/{row.pk}/verify")
    assert response.status_code == 202
    jobs.wait_all()
    row.refresh_from_db()
    assert row.verify_ok is False and "does not exist" in row.verify_result
