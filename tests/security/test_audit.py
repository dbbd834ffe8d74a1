from core.audit import audit_record
from dbtools.models import AuditEvent


def test_audit_trail_is_read_only_in_the_admin(client_for, admin_user):
    event = audit_record("backup.create", actor=admin_user, target="x.dump", result="ok")
    client = client_for("admin", username="boss")
    listing = client.get("/admin/dbtools/auditevent/?action=backup.create")
    assert listing.status_code == 200 and b"backup.create" in listing.content
    assert client.get("/admin/dbtools/auditevent/add/").status_code == 403
    assert client.post(f"/admin/dbtools/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_operators_cannot_read_the_audit_trail(client_for):
    assert client_for("operator").get("/admin/dbtools/auditevent/").status_code == 403


def test_role_change_in_the_admin_is_audited(client_for, make_user):
    target = make_user("viewer", username="promoted")
    client = client_for("admin", username="boss")
    page = client.get(f"/admin/accounts/user/{target.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions",
                                                                                  "last_login", "date_joined")}
    data.update({"role": "operator", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
                 "password": target.password, "is_active": "on", "is_staff": "on"})
    response = client.post(f"/admin/accounts/user/{target.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    target.refresh_from_db()
    assert target.role == "operator"
    event = AuditEvent.objects.get(action="user.role_change", target="promoted")
    assert event.actor_name == "boss" and event.details["role"] == "operator"
    assert event.details["previous_role"] == "viewer"


def test_audit_api_needs_the_admin_scope(db, make_user):
    from django.test import Client

    from accounts.services import api_key_create

    admin = make_user("admin", username="auditor")
    audit_record("backend.cancel", actor=admin, target="123")
    _, admin_key = api_key_create(user=admin, name="all", scopes=["admin"])
    _, read_key = api_key_create(user=admin, name="read", scopes=["read"])
    client = Client()
    ok = client.get("/api/v1/audit?action=backend.cancel", HTTP_AUTHORIZATION=f"Bearer {admin_key}")
    assert ok.status_code == 200
    assert [e["action"] for e in ok.json()["results"]] == ["backend.cancel"]
    denied = client.get("/api/v1/audit", HTTP_AUTHORIZATION=f"Bearer {read_key}")
    assert denied.status_code == 403 and denied.json()["error"]["code"]
    bad = client.get("/api/v1/audit?since=yesterday", HTTP_AUTHORIZATION=f"Bearer {admin_key}")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_since"
