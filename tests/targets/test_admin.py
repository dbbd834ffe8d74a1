"""Targets in the admin: write-only password, validation errors, file targets read-only, test connection, badge."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from targets.models import Target

ADD = reverse("admin:targets_target_add")


def form(**overrides):
    data = {"name": "prod", "host": "db.example.com", "port": "5432", "dbname": "shop", "user": "reader",
            "password": "pw-secret-123", "sslmode": "verify-full", "sslrootcert": "/etc/ssl/root.crt",
            "environment": "production", "notes": "",
            "grants-TOTAL_FORMS": "0", "grants-INITIAL_FORMS": "0", "grants-MIN_NUM_FORMS": "0",
            "grants-MAX_NUM_FORMS": "1000"}
    data.update(overrides)
    return data


@pytest.fixture
def admin_client(client_for):
    return client_for("admin", username="admin")


def test_add_stores_the_password_encrypted_and_never_shows_it(admin_client):
    response = admin_client.post(ADD, form())
    assert response.status_code == 302, response.content.decode()[:2000]
    target = Target.objects.get(name="prod")
    assert target.password == "pw-secret-123" and "pw-secret-123" not in target.password_encrypted
    page = admin_client.get(reverse("admin:targets_target_change", args=[target.pk])).content.decode()
    assert "pw-secret-123" not in page and target.password_encrypted not in page
    assert "A password is stored (never shown)" in page
    event = AuditEvent.objects.get(action="target.create", target="prod")
    assert "pw-secret-123" not in str(event.details)


def test_edit_keeps_or_clears_the_password(admin_client):
    admin_client.post(ADD, form())
    target = Target.objects.get(name="prod")
    change = reverse("admin:targets_target_change", args=[target.pk])
    assert admin_client.post(change, form(password="", host="db2.example.com")).status_code == 302
    target.refresh_from_db()
    assert target.host == "db2.example.com" and target.password == "pw-secret-123"
    assert admin_client.post(change, form(password="", clear_password="on")).status_code == 302
    target.refresh_from_db()
    assert target.password == "" and not target.has_password
    assert AuditEvent.objects.filter(action="target.update", target="prod").count() == 2


@pytest.mark.parametrize("field, value, message", [
    ("name", "default", "the app&#x27;s own database"),
    ("name", "Bad Name!", "lower-case letters"),
    ("port", "70000", "less than or equal to 65535"),
    ("sslmode", "sometimes", "Select a valid choice"),
    ("environment", "qa", "Select a valid choice"),
    ("host", "q" * 64 + ".example.com", "dot-separated labels of 1–63"),
])
def test_bad_input_is_a_form_error_and_stores_nothing(admin_client, field, value, message):
    response = admin_client.post(ADD, form(**{field: value}))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Target.objects.exists() and not AuditEvent.objects.filter(action="target.create").exists()


def test_no_encryption_key_is_a_form_error(admin_client, settings):
    settings.TARGETS_ENCRYPTION_KEYS = []
    response = admin_client.post(ADD, form())
    assert response.status_code == 200 and "PGDECK_TARGETS_KEYS is not set" in response.content.decode()
    assert not Target.objects.exists()


def test_file_targets_are_read_only(admin_client):
    target = Target.objects.create(name="from-file", host="h", dbname="d", user="u", source="file")
    change = reverse("admin:targets_target_change", args=[target.pk])
    page = admin_client.get(change).content.decode()
    assert 'name="_save"' not in page
    assert admin_client.post(change, form(name="from-file", host="other")).status_code == 403
    assert admin_client.post(reverse("admin:targets_target_delete", args=[target.pk]), {"post": "yes"}).status_code \
        == 403
    target.refresh_from_db()
    assert target.host == "h"


def test_only_admins_see_targets(client_for):
    operator = client_for("operator")
    assert operator.get(reverse("admin:targets_target_changelist")).status_code == 403
    assert operator.post(reverse("admin:targets_target_test", args=["default"])).status_code == 403
    assert operator.post(ADD, form()).status_code == 403 and not Target.objects.exists()


def test_test_connection_page_shows_the_result(admin_client):
    url = reverse("admin:targets_target_test", args=["default"])
    assert "Test connection" in admin_client.get(url).content.decode()
    page = admin_client.post(url).content.decode()
    assert "Server version" in page and "Privileges found" in page and "superuser" in page
    Target.objects.create(name="nowhere", host="no-such-host.invalid", dbname="d", user="u")
    page = admin_client.post(reverse("admin:targets_target_test", args=["nowhere"])).content.decode()
    assert "Cannot connect: DNS failure: host &#x27;no-such-host.invalid&#x27; does not resolve" in page
    assert admin_client.post(reverse("admin:targets_target_test", args=["missing"])).status_code == 404


def test_changelist_lists_default_with_its_test_link(admin_client):
    page = admin_client.get(reverse("admin:targets_target_changelist")).content.decode()
    assert "always the target <strong>default</strong>" in page
    assert reverse("admin:targets_target_test", args=["default"]) in page


def test_environment_badge_on_every_page(admin_client, settings):
    settings.DEFAULT_TARGET_ENVIRONMENT = "staging"
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert 'class="target-badge target-badge--staging"' in page and 'data-target="default"' in page
    Target.objects.create(name="prod", host="h", dbname="d", user="u", environment="production")
    page = admin_client.get(reverse("admin:index") + "?target=prod").content.decode()
    assert 'target-badge--production' in page and 'data-target="prod"' in page
    page = admin_client.get(reverse("admin:index") + "?target=%3Cscript%3E").content.decode()
    assert "<script>" not in page.split("<body")[1].split("</h1>")[0] and 'data-target=' not in page


def test_badge_reads_nothing_until_shown_and_never_fails_a_page(rf):
    """The 503 page renders with every context processor while the database is down: the badge must not touch
    request.user (the session) unless a template shows it, and then be empty instead of an error."""
    from django.db import OperationalError

    from targets.context_processors import target_badge

    class Unreadable:
        @property
        def is_authenticated(self):
            raise OperationalError("the database is down")

    request = rf.get("/admin/?target=prod")
    request.user = Unreadable()
    badge = target_badge(request)["target_badge"]  # nothing evaluated yet
    assert not badge and "environment" not in badge
