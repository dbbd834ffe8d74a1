"""The per-process key cache (accounts/key_cache.py): hits read nothing, and every change PostgreSQL commits —
from the app or from outside it (psql) — is refused on the next request. Committed data, so transactional."""

import os
import select
import time

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.key_cache import CHANNEL, Listener, key_cache
from accounts.key_lookup import PREPARED_NAME as LOOKUP
from accounts.models import ApiKey
from accounts.services import api_key_create, api_key_revoke
from tests.catalog import conninfo_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.environ.get("DB_PGBOUNCER") == "1", reason="transaction pooling cannot LISTEN: the cache "
                       "is off there (test_behind_pgbouncer_every_request_reads_the_row checks that)"),
]


@pytest.fixture
def cache_on(settings):
    settings.API_KEY_CACHE = True
    key_cache.stop()
    assert key_cache.wait_ready(10), "the LISTEN connection did not come up"
    yield key_cache
    key_cache.stop()  # closes its connection, or the test database could not be dropped


@pytest.fixture
def outside():
    """A separate autocommit connection to the test database, as psql would be."""
    with psycopg.connect(conninfo_for(connection.settings_dict), autocommit=True) as conn:
        yield conn


def get(plaintext, url="/api/v1/me"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client.get(url)


def lookups_of(plaintext, url="/api/v1/me"):
    """The response, and how many times the request read the key's row from the database."""
    with CaptureQueriesContext(connection) as captured:
        response = get(plaintext, url)
    return response, sum(LOOKUP in query["sql"] or "FROM api_keys k" in query["sql"]
                         for query in captured.captured_queries)


def warm(plaintext, url="/api/v1/me"):
    """Cache the key, and prove the next request is served from the cache."""
    for _ in range(2):  # a first use writes last_used, which drops the key to re-read it once
        assert get(plaintext, url).status_code == 200
    response, lookups = lookups_of(plaintext, url)
    assert response.status_code == 200 and lookups == 0


def eventually(plaintext, status, url="/api/v1/me", seconds=3):
    """The status the first request returns, and that some request within `seconds` returns `status`."""
    first = get(plaintext, url)
    response, deadline = first, time.monotonic() + seconds
    while response.status_code != status and time.monotonic() < deadline:
        time.sleep(0.01)
        response = get(plaintext, url)
    return first, response


def test_a_cached_key_costs_no_query_and_answers_the_same(cache_on, make_user):
    user = make_user("viewer", username="cached")
    _key, plaintext = api_key_create(user=user, name="k", scopes=["read"])
    first, lookups = lookups_of(plaintext)
    assert first.status_code == 200 and lookups >= 1  # read from the database (prepared on first use)
    warm(plaintext)
    assert get(plaintext).json() == first.json()
    assert get(plaintext[:-2] + "xx").status_code == 401  # the secret is checked on every hit


OUTSIDE_CHANGES = [
    ("revoked", "UPDATE api_keys SET revoked_at = now() WHERE prefix = %(prefix)s", 401, "key_revoked"),
    ("expired", "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE prefix = %(prefix)s", 401,
     "key_expired"),
    ("deleted", "DELETE FROM api_keys WHERE prefix = %(prefix)s", 401, "key_invalid"),
    ("owner deactivated", "UPDATE accounts_user SET is_active = false WHERE id = %(user)s", 401, "key_inactive_user"),
    ("role group left", "DELETE FROM accounts_user_groups WHERE user_id = %(user)s", 403, "permission_denied"),
    ("group permission removed", "DELETE FROM auth_group_permissions WHERE group_id IN "
     "(SELECT group_id FROM accounts_user_groups WHERE user_id = %(user)s)", 403, "permission_denied"),
]


@pytest.mark.parametrize("change, statement, status, code", OUTSIDE_CHANGES, ids=[c[0] for c in OUTSIDE_CHANGES])
def test_a_change_made_outside_the_app_is_refused_at_once(cache_on, make_user, outside, change, statement, status,
                                                          code):
    user = make_user("viewer", username="outsider")
    api_key, plaintext = api_key_create(user=user, name="k", scopes=["read"])
    url = "/api/v1/posts/"  # needs blog.view_post: the role's permission, read in the same lookup
    warm(plaintext, url)
    outside.execute(statement, {"prefix": api_key.prefix, "user": user.pk})
    _first, response = eventually(plaintext, status, url)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_a_notification_on_the_socket_not_yet_handled_is_a_miss(cache_on, make_user, outside):
    """The hit path polls the LISTEN socket: a notification that has arrived is honoured even before the
    listener thread gets to it. Here nothing ever handles it: the listener is a connection without a thread."""
    _key, plaintext = api_key_create(user=make_user("viewer", username="polled"), name="k", scopes=["read"])
    key_cache.stop()
    with psycopg.connect(conninfo_for(connection.settings_dict), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        idle = Listener(key_cache, {})
        idle.fd = conn.pgconn.socket
        idle.connected.set()
        key_cache._listener, key_cache._pid = idle, os.getpid()
        try:
            warm(plaintext)
            outside.execute("UPDATE api_keys SET revoked_at = now()")
            poller = select.poll()
            poller.register(idle.fd, select.POLLIN)
            assert poller.poll(5000), "no notification arrived"
            response = get(plaintext)
        finally:
            key_cache._listener = None
    assert response.status_code == 401 and response.json()["error"]["code"] == "key_revoked"


def test_revoking_in_the_app_applies_on_the_very_next_request(cache_on, make_user):
    api_key, plaintext = api_key_create(user=make_user("viewer", username="rev"), name="k", scopes=["read"])
    warm(plaintext)
    api_key_revoke(api_key)
    assert get(plaintext).json()["error"]["code"] == "key_revoked"


def test_role_change_in_the_app_applies_on_the_very_next_request(cache_on, make_user):
    user = make_user("viewer", username="demoted")
    _key, plaintext = api_key_create(user=user, name="k", scopes=["read"])
    warm(plaintext, "/api/v1/posts/")
    user.groups.clear()
    assert get(plaintext, "/api/v1/posts/").status_code == 403


def test_expiry_is_checked_on_every_hit(cache_on, make_user):
    _key, plaintext = api_key_create(user=make_user("viewer", username="short"), name="k", scopes=["read"])
    ApiKey.objects.update(expires_at=timezone.now() + timezone.timedelta(seconds=1))
    warm(plaintext)
    time.sleep(1.1)
    response, lookups = lookups_of(plaintext)
    assert response.json()["error"]["code"] == "key_expired" and lookups == 0  # refused from the cached row


def test_last_used_writes_do_not_empty_the_cache(cache_on, make_user, outside):
    api_key, plaintext = api_key_create(user=make_user("viewer", username="touchy"), name="k", scopes=["read"])
    warm(plaintext)
    outside.execute("UPDATE api_keys SET last_used = now() WHERE prefix = %s", [api_key.prefix])
    time.sleep(0.3)  # a notification, had one been sent, would have arrived
    response, lookups = lookups_of(plaintext)
    assert response.status_code == 200 and lookups == 0


def test_a_row_read_inside_a_rolled_back_transaction_is_not_cached(cache_on, make_user):
    _key, plaintext = api_key_create(user=make_user("viewer", username="atomic"), name="k", scopes=["read"])
    with pytest.raises(RuntimeError), transaction.atomic():
        ApiKey.objects.update(revoked_at=timezone.now())  # no signal, no commit, so no NOTIFY
        assert get(plaintext).status_code == 401
        raise RuntimeError("roll back")
    assert get(plaintext).status_code == 200


def test_while_the_listener_is_down_every_request_reads_the_row(cache_on, make_user, outside):
    api_key, plaintext = api_key_create(user=make_user("viewer", username="down"), name="k", scopes=["read"])
    warm(plaintext)
    outside.execute("SELECT pg_terminate_backend(%s)", [key_cache.listener().backend_pid])
    deadline = time.monotonic() + 5
    while key_cache.listener().connected.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    # Down (or already back with an emptied cache): either way this request reads the row.
    response, lookups = lookups_of(plaintext)
    assert response.status_code == 200 and lookups == 1
    assert key_cache.wait_ready(10), "the listener did not reconnect"
    warm(plaintext)


def test_behind_pgbouncer_every_request_reads_the_row(settings, make_user, monkeypatch):
    settings.API_KEY_CACHE = True
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    _key, plaintext = api_key_create(user=make_user("viewer", username="bounced"), name="k", scopes=["read"])
    assert get(plaintext).status_code == 200
    for _ in range(3):
        response, lookups = lookups_of(plaintext)
        assert response.status_code == 200 and lookups == 1
