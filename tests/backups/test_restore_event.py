"""A restore over the live database is an event the app survives (issue 21 item 4): keys and sessions made after
the backup stop working at once, even from the per-process key cache, and the audit trail is not rolled back.

This restores over the test database itself (committed data, so transactional), with the key cache on."""

import os
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.key_cache import key_cache
from accounts.models import ApiKey
from accounts.services import api_key_create
from core.audit import audit_record
from dbtools.models import AuditEvent, Backup
from tests.catalog import conninfo_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.environ.get("DB_PGBOUNCER") == "1", reason="transaction pooling cannot LISTEN: no cache"),
]


@pytest.fixture
def cache_on(settings):
    settings.API_KEY_CACHE = True
    key_cache.stop()
    assert key_cache.wait_ready(10), "the LISTEN connection did not come up"
    yield key_cache
    key_cache.stop()


def get(plaintext):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client.get("/api/v1/me")


def test_restore_ends_later_keys_and_sessions_and_keeps_the_audit_trail(cache_on, make_user, backup_dir):
    make_user("admin", username="boss")
    call_command("dbbackup", "--verify", stdout=StringIO())  # the restore point, and the required safety net
    row = Backup.objects.latest("pk")
    assert row.verify_ok is True, row.verify_result
    newcomer = make_user("operator", username="newcomer")
    key, plaintext = api_key_create(user=newcomer, name="made after the backup", scopes=["read"])
    for _ in range(3):
        assert get(plaintext).status_code == 200
    assert len(key_cache) >= 1  # served from the cache now
    browser = Client()
    browser.force_login(newcomer)
    assert browser.get("/admin/").status_code == 200
    audit_record("test.after_backup", actor="os:test", target="kept")
    trail = list(AuditEvent.objects.order_by("pk").values_list("pk", "action", "actor_name"))

    with psycopg.connect(conninfo_for(connection.settings_dict), autocommit=True) as other_process:
        other_process.execute("LISTEN pgdeck_api_key_auth")
        call_command("dbrestore", row.file, "--yes", stdout=StringIO())
        told = next(other_process.notifies(timeout=5, stop_after=1), None)
    assert told is not None  # every other process empties its key cache too

    assert get(plaintext).status_code == 401  # the very next request
    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert browser.get("/admin/").status_code == 302  # signed out
    assert list(AuditEvent.objects.filter(pk__lte=trail[-1][0]).order_by("pk").values_list(
        "pk", "action", "actor_name")) == trail
    event = AuditEvent.objects.get(action="backup.restore")
    assert event.pk > trail[-1][0]
    details = event.details
    assert details["result"] == "success" and details["backup_id"] == row.pk
    assert details["rolled_back"]["public.api_keys"] == {"before": 1, "after": 0}
    assert details["rolled_back"]["public.accounts_user"]["before"] == 2
    assert details["audit_events_kept_since_backup"] >= 3 and details["sessions_ended"] == 1
    later = audit_record("test.after_restore", actor="os:test")
    assert later.pk > event.pk
    # The backup catalogue describes the files on disk: not rolled back either.
    assert Backup.objects.get(pk=row.pk).status == "success"
