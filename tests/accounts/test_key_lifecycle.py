"""A key's life: create → use → last_used (at most once a minute) → expire → revoke; each refusal a clear 401."""

import os
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import key_lookup
from accounts.models import ApiKey
from accounts.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db


def me(plaintext):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client.get("/api/v1/me")


def refused(response, code, words):
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"]


def test_key_life_cycle(make_user, django_assert_num_queries):
    user = make_user("operator", username="op")
    api_key, plaintext = api_key_create(user=user, name="deploy", scopes=["read"], expires_in=timedelta(days=1))
    assert api_key.last_used is None

    assert me(plaintext).status_code == 200
    first_use = ApiKey.objects.get().last_used
    assert first_use is not None

    with django_assert_num_queries(1):  # the lookup only: no write within the minute
        assert me(plaintext).status_code == 200
    assert ApiKey.objects.get().last_used == first_use

    ApiKey.objects.update(last_used=first_use - timedelta(seconds=61))
    assert me(plaintext).status_code == 200
    assert ApiKey.objects.get().last_used > first_use

    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    refused(me(plaintext), "key_expired", "expired")

    ApiKey.objects.update(expires_at=None)
    assert me(plaintext).status_code == 200
    api_key_revoke(ApiKey.objects.get())
    refused(me(plaintext), "key_revoked", "revoked")  # on the very next request


def test_deactivated_owner_locks_their_keys(make_user):
    user = make_user("viewer", username="vi")
    _key, plaintext = api_key_create(user=user, name="k", scopes=["read"])
    user.is_active = False
    user.save()
    refused(me(plaintext), "key_inactive_user", "deactivated")


def test_role_downgrade_takes_effect_on_the_next_request(make_user):
    user = make_user("admin", username="boss", is_superuser=False)
    _key, plaintext = api_key_create(user=user, name="k", scopes=["read", "write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.post("/api/v1/users/", {"username": "a", "email": "a@example.com"}, format="json").status_code == 201
    user.role = "viewer"
    user.save()
    response = client.post("/api/v1/users/", {"username": "b", "email": "b@example.com"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_only_a_hash_is_stored(make_user):
    api_key, plaintext = api_key_create(user=make_user("viewer", username="vi"), name="k", scopes=["read"])
    stored = ApiKey.objects.values().get(pk=api_key.pk)
    secret = plaintext.split("_", 2)[2]
    assert len(secret) >= 43  # 32 random bytes, url-safe base64
    assert all(secret not in str(value) for value in stored.values())
    assert len(stored["key_hash"]) == 64


@pytest.mark.skipif(os.environ.get("DB_PGBOUNCER") == "1", reason="behind PgBouncer the lookup is not prepared "
                    "(test_behind_pgbouncer_the_lookup_is_a_plain_statement covers that path)")
@pytest.mark.django_db(transaction=True)  # the lookup re-prepares only outside a transaction
def test_prepared_lookup_survives_a_deallocate_and_still_sees_revocation(make_user):
    api_key, plaintext = api_key_create(user=make_user("viewer", username="vi"), name="k", scopes=["read"])
    assert me(plaintext).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [key_lookup.PREPARED_NAME])
        assert cursor.fetchone()[0] == 1
        cursor.execute("DEALLOCATE ALL")  # as a pooler's reset would
    assert me(plaintext).status_code == 200
    api_key_revoke(api_key)
    refused(me(plaintext), "key_revoked", "revoked")


def test_behind_pgbouncer_the_lookup_is_a_plain_statement(make_user, monkeypatch):
    """Transaction pooling may run the next statement on another server connection: no PREPARE/EXECUTE there."""
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    _key, plaintext = api_key_create(user=make_user("viewer", username="vi"), name="k", scopes=["read"])
    with CaptureQueriesContext(connection) as queries:
        assert me(plaintext).status_code == 200
    assert not [q for q in queries.captured_queries if re.match(r"\s*(PREPARE|EXECUTE)", q["sql"])]
    assert any("FROM api_keys k" in q["sql"] for q in queries.captured_queries)
