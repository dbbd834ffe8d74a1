"""`tables` names only the app's own tables; private rows stay out of non-admins' backups and downloads; bad
input is refused before any row, file or audit event exists (issue 21 items 2 and 6, issue 13 item 3, issue 18)."""

import logging
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.services import api_key_create
from dbtools.backups import jobs
from dbtools.models import AuditEvent, Backup


def api(make_user, role, username=None):
    user = make_user(role, username=username or f"{role}-api")
    _key, plaintext = api_key_create(user=user, name="t", scopes=["operate"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def post(client, body):
    return client.post("/api/v1/backups", body, content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["pg_authid", "pg_catalog.pg_authid", "information_schema.sql_features",
                                  'x"; DROP TABLE posts; --', "no_such_table"])
def test_tables_accepts_only_the_apps_own_tables(name, make_user, backup_dir, caplog):
    caplog.set_level(logging.INFO)
    for role in ("operator", "admin"):
        response = post(api(make_user, role), {"format": "plain", "tables": [name]})
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid_table"
    with pytest.raises(CommandError, match="is not one of its own tables") as caught:
        call_command("dbbackup", "--table", name, stdout=StringIO())
    assert "\n" not in str(caught.value)
    assert not Backup.objects.exists() and not AuditEvent.objects.filter(action__startswith="backup.").exists()
    assert list(backup_dir.iterdir()) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]  # no traceback


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["django_session", "accounts_user", "api_keys", "audit_events",
                                   "axes_accessattempt"])
def test_operator_may_not_name_a_private_table(table, make_user, backup_dir):
    response = post(api(make_user, "operator"), {"format": "plain", "tables": [table]})
    assert response.status_code == 403 and response.json()["error"]["code"] == "private_table"
    make_user("operator", username="op-cli")
    with pytest.raises(CommandError, match="holds private data"):
        call_command("dbbackup", "--table", table, "--user", "op-cli", stdout=StringIO())
    assert not Backup.objects.exists() and list(backup_dir.iterdir()) == []


@pytest.mark.django_db(transaction=True)
def test_operators_full_backup_holds_no_secrets(make_user, backup_dir):
    victim = make_user("admin", username="victim")
    _key, _plaintext = api_key_create(user=victim, name="secret", scopes=["read"])
    session = SessionStore()
    session["marker"] = "x"
    session.create()
    secrets = [victim.password, victim.api_keys.get().key_hash, session.session_key]
    operator = api(make_user, "operator")
    created = post(operator, {"format": "plain", "verify": True})
    assert created.status_code == 202
    jobs.wait_all()
    row = Backup.objects.get(pk=created.json()["id"])
    assert row.status == "success" and row.verify_ok is True, (row.error, row.verify_result)
    content = b"".join(operator.get(f"/api/v1/backups/{row.pk}/download").streaming_content)
    assert b"CREATE TABLE public.django_session" in content and b"COPY public.posts" in content
    for secret in secrets:
        assert secret.encode() not in content
    assert "public.django_session" in row.snapshot["excluded_data"] and not row.snapshot["private_data"]
    # An admin's unencrypted backup holds them: downloading it is for admins only.
    call_command("dbbackup", "--format", "plain", stdout=StringIO())
    full = Backup.objects.order_by("-pk").first()
    assert session.session_key.encode() in Path(full.file).read_bytes()
    denied = operator.get(f"/api/v1/backups/{full.pk}/download")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "private_data"
    assert api(make_user, "admin", username="boss").get(f"/api/v1/backups/{full.pk}/download").status_code == 200
    page = Client()
    page.force_login(make_user("operator", username="op-page"))
    assert b"only admins may download it" in page.get(f"/admin/dbtools/backups/{full.pk}/").content
    assert b"left out" in page.get(f"/admin/dbtools/backups/{row.pk}/").content
    assert page.get(f"/admin/dbtools/backups/{full.pk}/download/").status_code == 302  # refused, with a message


@pytest.mark.django_db
def test_backup_page_says_who_gets_private_data(client_for, backup_dir):
    page = client_for("operator").get("/admin/dbtools/backups/create/")
    assert b"private" in page.content.lower() and b"admin" in page.content


@pytest.mark.django_db
def test_already_verifying_is_a_409(make_user, backup_dir):
    row = Backup.objects.create(file=str(backup_dir / "x.dump"), status="success", verify_result="running")
    response = api(make_user, "operator").post(f"/api/v1/backups/{row.pk}/verify")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


@pytest.mark.django_db
def test_bad_options_leave_no_row_and_no_audit_event(backup_dir):
    with pytest.raises(CommandError, match="table 'nosuchtable' does not exist"):
        call_command("dbbackup", "--table", "nosuchtable", stdout=StringIO())
    with pytest.raises(CommandError, match="cannot connect to database nosuchdb"):
        call_command("dbbackup", "--source-db", "nosuchdb", stdout=StringIO())
    assert not Backup.objects.exists() and not AuditEvent.objects.exists()
    out = StringIO()
    with pytest.raises(CommandError, match="backup file /missing does not exist"):
        call_command("dbbackup", "verify", "/missing", stdout=out)
    assert out.getvalue() == "" and not AuditEvent.objects.exists()
