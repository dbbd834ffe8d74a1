"""Backups of any registered target (pg_dump through the seam's argv/env), restores only where the user may
restore, with the confirmation naming target and database; faults are one-line errors with a code."""

from pathlib import Path

import pytest
from django.test import Client
from psycopg import sql

from dbtools.backups import jobs, services
from dbtools.backups.errors import BackupError
from dbtools.models import AuditEvent, Backup
from tests.conftest import legacy_api_key
from tests.targets_tools.conftest import _pg15, grant, register


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


@pytest.mark.django_db(transaction=True)
def test_restore_into_a_target_needs_restore_grant_and_lands_there(make_user, pg15_targets, pg15_db, backup_dir):
    admin = make_user("admin", username="root")
    backup = services.backup_create(actor=admin, target="pg15")
    copy = f"{pg15_db['dbname']}_copy"
    operator = make_user("operator")
    with pytest.raises((BackupError, PermissionError)):
        services.backup_restore(actor=operator, path=backup.file, target=copy, create=True, target_name="pg15")
    try:
        services.backup_restore(actor=admin, path=backup.file, target=copy, create=True, target_name="pg15")
        with _pg15(copy) as conn:
            assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 3
    finally:
        with _pg15() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy)))
    event = AuditEvent.objects.filter(action="backup.restore", details__result="success").get()
    assert event.db_target == "pg15" and event.details["database"] == copy


@pytest.mark.django_db(transaction=True)
def test_restore_form_confirmation_names_target_and_database(client, make_user, pg15_targets, backup_dir):
    admin = make_user("admin", username="root")
    backup = services.backup_create(actor=admin, target="pg15")
    client.force_login(admin)
    url = f"/admin/dbtools/backups/{backup.pk}/restore/"
    page = client.post(url, {"target": "pg15", "target_db": "whatever_db", "create": "on",
                             "confirm": "whatever_db"})
    assert page.status_code == 200
    assert "pg15/whatever_db" in str(page.context["form"].errors["confirm"])


@pytest.mark.django_db(transaction=True)
def test_a_target_that_is_the_app_database_cannot_be_restored_over(make_user, backup_dir, settings):
    """Two names for one database: the alias would skip the live database's protections, so it is refused."""
    from django.db import connection

    admin = make_user("admin", username="root")
    db = connection.settings_dict
    register("alias", host=db["HOST"] or "localhost", port=int(db["PORT"] or 5432), dbname=db["NAME"],
             user=db["USER"], password=db["PASSWORD"] or "", sslmode="disable")
    backup = services.backup_create(actor=admin, tables=["posts"])
    before = AuditEvent.objects.count()
    with pytest.raises(BackupError) as caught:
        services.backup_restore(actor=admin, path=backup.file, target=db["NAME"], confirmed=True,
                                target_name="alias")
    assert caught.value.code == "same_database"
    assert AuditEvent.objects.count() >= before  # nothing was replaced (the audit trail included)
