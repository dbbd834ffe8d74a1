"""Issue 21 item 6: failed key attempts cannot flood the audit trail; the schema and docs need a login in
production; an API key's life across its owner's password change is what docs/security.md says."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from dbtools.models import AuditEvent

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def guess(address, n):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer pgd_{n:012x}_guessguessguessguessguessguessguessguess")
    return client.get("/api/v1/me").status_code


def test_a_flood_of_failed_keys_from_one_address_writes_one_counted_row_per_minute(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"apikey": "6000/min", "anon": "6000/min"})
    assert {guess("198.51.100.7", n) for n in range(600)} == {401}
    rows = AuditEvent.objects.filter(action="api_key.auth_failed")
    # one row per minute: a slow machine may cross one minute boundary during the flood, never more
    assert rows.count() <= 2 and sum(row.details["count"] for row in rows) == 600
    row = rows.latest("pk")
    assert row.ip == "198.51.100.7" and row.details["window_seconds"] == 60 and row.details["reason"] == "invalid"
    # another address gets its own row: one noisy client cannot hide another's attempts
    guess("198.51.100.8", 1)
    assert AuditEvent.objects.get(action="api_key.auth_failed", ip="198.51.100.8").details["count"] == 1


def test_a_new_minute_opens_a_new_row(monkeypatch, settings):
    settings.AUDIT_AGGREGATE_SECONDS = 60
    guess("198.51.100.7", 1)
    AuditEvent.objects.filter(action="api_key.auth_failed").update(when="2000-01-01T00:00:00Z")  # an old window
    guess("198.51.100.7", 2)
    assert sorted(AuditEvent.objects.filter(action="api_key.auth_failed").values_list("details__count", flat=True)) \
        == [1, 1]


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_need_a_login_when_not_public(url, settings, make_user, key_for):
    settings.API_DOCS_PUBLIC = False
    anonymous = Client().get(url)
    assert anonymous.status_code == 401  # the schema's own renderer (YAML / the docs page) says so
    assert b"/api/v1/" not in anonymous.content and b"swagger" not in anonymous.content.lower()
    staff = Client()
    staff.force_login(make_user("viewer"))
    assert staff.get(url).status_code == 200
    _key, plaintext = key_for("viewer", scopes=["read"], username="docs-reader")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}").get(url).status_code == 200
    settings.API_DOCS_PUBLIC = True
    assert Client().get(url).status_code == 200


def production_setting(name, **env):
    base = {"DJANGO_SECRET_KEY": "x" * 50, "API_KEY_PEPPER": "p" * 32, "DJANGO_ALLOWED_HOSTS": "example.com",
            "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db", "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    code = f"from django.conf import settings; print(settings.{name})"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **base, **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_closes_the_docs_unless_api_docs_public():
    assert production_setting("API_DOCS_PUBLIC") == "False"
    assert production_setting("API_DOCS_PUBLIC", API_DOCS_PUBLIC="1") == "True"


def test_api_keys_outlive_a_password_change_but_sessions_do_not(make_user, key_for):
    """docs/security.md, "API keys and key rotation": keys are separate credentials (revoke them yourself)."""
    _key, plaintext = key_for("viewer", scopes=["read"], username="changer")
    user = make_user("viewer", username="changer")
    browser = Client()
    browser.force_login(user)
    assert browser.get("/admin/").status_code == 200
    user.set_password("a-new-password-42")
    user.save()
    assert browser.get("/admin/").status_code == 302  # the session hash no longer matches: logged out
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.get("/api/v1/me").status_code == 200
    user.is_active = False  # the documented kill switch after a compromise
    user.save()
    assert api.get("/api/v1/me").status_code == 401
