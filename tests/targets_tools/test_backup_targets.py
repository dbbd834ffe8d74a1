"""Backups of any registered target (pg_dump through the seam's argv/env); faults are one-line errors with a code."""

from pathlib import Path

import pytest
from django.test import Client

from dbtools.backups import jobs, services
from dbtools.backups.errors import BackupError
from dbtools.models import AuditEvent, Backup
from tests.conftest import legacy_api_key
from tests.targets_tools.conftest import grant


@pytest.fixture
def backup_dir(settings, tmp_path):
    path = tmp_path / "backups"
    path.mkdir()
    settings.BACKUP_DIR = path
    return path


def api(user, scopes):
    return Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(user, scopes)}")


@pytest.mark.django_db(transaction=True)
def test_backup_of_the_pg15_target(make_user, pg15_targets, backup_dir):
    operator = make_user("operator")
    client = api(operator, ["operate"])
    refused = client.post("/api/v1/backups", {"target": "pg15"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "target_forbidden"
    assert not Backup.objects.exists()
    grant(pg15_targets["pg15"], "operator", "backup")
    created = client.post("/api/v1/backups", {"target": "pg15"}, content_type="application/json")
    assert created.status_code == 202, created.content
    jobs.wait_all()
    detail = client.get(f"/api/v1/backups/{created.json()['id']}").json()
    assert detail["status"] == "success", detail["error"]
    assert detail["target"] == "pg15" and detail["tables"]["public.items"] == 3
    assert Path(detail["file"]).name.startswith("pgdeck-pg15-")
    backup = Backup.objects.get()
    assert backup.snapshot["server_version_num"] // 10000 == 15 and backup.snapshot["target"] == "pg15"
    event = AuditEvent.objects.get(action="backup.create")
    assert event.db_target == "pg15" and "pw" not in str(event.details)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name, code, status", [("refused", "target_unavailable", 424),
                                                ("nowhere", "target_not_found", 404)])
def test_backup_of_a_bad_target_is_refused_before_any_row(make_user, broken_targets, backup_dir, name, code,
                                                          status):
    client = api(make_user("admin", username="root"), ["admin"])
    response = client.post("/api/v1/backups", {"target": name}, content_type="application/json")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Backup.objects.exists() and not list(backup_dir.iterdir())


@pytest.mark.django_db(transaction=True)
def test_target_deleted_between_prepare_and_dump_fails_the_row(make_user, pg15_targets, backup_dir):
    admin = make_user("admin", username="root")
    backup = services.backup_prepare(actor=admin, target="pg15")
    pg15_targets["pg15"].delete()
    with pytest.raises(BackupError) as caught:
        services.backup_run(backup, actor=admin)
    assert caught.value.code == "target_not_found"
    backup.refresh_from_db()
    assert backup.status == "failed" and "pg15" in backup.error and "\n" not in backup.error
    assert not list(backup_dir.iterdir())
