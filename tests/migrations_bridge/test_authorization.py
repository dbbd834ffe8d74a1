"""Issue 21 item 5: one authorization for a migration move, whatever the path (admin screen, API, command).
A downgrade that drops rows needs an admin, a recently verified backup and the typed row count; the query
roles' grants come back with the tables."""

from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.services import api_key_create
from dbtools.migrations_bridge.catalog import conninfo_for
from dbtools.models import AuditEvent, Backup, MigrationLog
from tests.factories import PostFactory
from tests.migrations_bridge.conftest import failed, ok

CONFIRM = "/admin/dbtools/migrations/confirm/"
DOWNGRADE_API = "/api/v1/migrations/downgrade"


@pytest.fixture(autouse=True)
def forget_log_rows(db):
    first = MigrationLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    yield
    with psycopg.connect(conninfo_for(connection.settings_dict), autocommit=True) as conn:
        conn.execute("DELETE FROM migrations_log WHERE id > %s", [first])


def _blog_intact(posts=2):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.posts') IS NOT NULL, to_regclass('public.users') IS NOT NULL")
        if cursor.fetchone() != (True, True):
            return False
        cursor.execute("SELECT (SELECT count(*) FROM posts), (SELECT version_num FROM alembic_version)")
        return cursor.fetchone() == (posts, "def456")


def _backup(minutes_ago=1, ok=True):
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return Backup.objects.create(file=f"b{minutes_ago}{ok}.dump", status="success", verify_ok=ok,
                                 finished_at=finished, verified_at=finished)


@pytest.fixture
def rows():
    """Two posts by two blog users: a downgrade to base would destroy users (2 rows) and posts (2 rows)."""
    PostFactory.create_batch(2)


def test_operator_admin_downgrade_dropping_rows_is_refused_as_the_api_refuses_it(rows, client_for):
    client = client_for("operator")
    page = client.get(CONFIRM, {"action": "downgrade", "revision": "base"}).content.decode()
    assert 'id="data-loss"' in page and 'id="admin-required"' in page
    assert "<code>users</code></td><td>2</td>" in page and "<code>posts</code></td><td>2</td>" in page
    response = client.post(CONFIRM, {"action": "downgrade", "revision": "base", "confirm": "drop 4 rows"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="confirm-error"' in html
    assert "only an admin may drop tables or columns that hold rows" in html
    assert _blog_intact()
    # The API's answer to the same operator, by session and by key.
    api = client.post(DOWNGRADE_API, {"revision": "base", "confirm": "drop 4 rows"}, content_type="application/json")
    assert api.status_code == 403 and api.json()["error"]["code"] == "admin_required"
    _key, plaintext = api_key_create(user=_operator(), name="k", scopes=["operate"])
    keyed = client.post(DOWNGRADE_API, {"revision": "base"}, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert keyed.status_code == 403
    assert _blog_intact()
    assert list(AuditEvent.objects.filter(action="migration.downgrade").values_list("details__outcome", flat=True)
                ) == ["failed", "failed"]


def _operator():
    from accounts.models import User

    return User.objects.get(username="operator-user")


def test_admin_downgrade_dropping_rows_needs_a_recent_verified_backup_and_the_typed_count(rows, client_for):
    client = client_for("admin")
    form = {"action": "downgrade", "revision": "base", "confirm": "drop 4 rows"}
    _backup(minutes_ago=settings.MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES + 5)  # too old
    _backup(minutes_ago=1, ok=False)  # verify failed
    page = client.post(CONFIRM, form).content.decode()
    assert "needs a backup verified OK in the last" in page and _blog_intact()
    _backup(minutes_ago=1)
    page = client.get(CONFIRM, {"action": "downgrade", "revision": "base"}).content.decode()
    assert "Type <code>drop 4 rows</code> to confirm" in page and 'id="backup-required"' not in page
    for typed in ("", "drop 3 rows", "yes"):
        page = client.post(CONFIRM, {**form, "confirm": typed}).content.decode()
        assert "type “drop 4 rows” to confirm" in page and _blog_intact(), typed
    response = client.post(CONFIRM, form)
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.posts'), to_regclass('public.users')")
        assert cursor.fetchone() == (None, None)


def test_api_downgrade_dropping_rows_with_an_admin_key(rows, make_user, client):
    _key, plaintext = api_key_create(user=make_user("admin"), name="k", scopes=["admin"])
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {plaintext}"
    refused = client.post(DOWNGRADE_API, {"revision": "abc123"}, content_type="application/json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "backup_required"
    assert "posts (2 rows)" in refused.json()["error"]["message"] and _blog_intact()
    _backup()
    unconfirmed = client.post(DOWNGRADE_API, {"revision": "abc123"}, content_type="application/json")
    assert unconfirmed.status_code == 400 and unconfirmed.json()["error"]["code"] == "confirmation_required"
    assert "type “drop 2 rows” to confirm" in unconfirmed.json()["error"]["message"] and _blog_intact()
    done = client.post(DOWNGRADE_API, {"revision": "abc123", "confirm": "drop 2 rows"},
                       content_type="application/json")
    assert done.status_code == 200 and done.json()["revision"] == "abc123"


def test_operator_may_still_downgrade_empty_tables(client_for):
    response = client_for("operator").post(CONFIRM, {"action": "downgrade", "revision": "abc123"})
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.posts')")
        assert cursor.fetchone() == (None,)


def _can_select(role, table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, %s, 'SELECT')", [role, f"public.{table}"])
        return cursor.fetchone()[0]


@pytest.fixture(scope="session")
def query_roles(django_db_setup, django_db_blocker):
    """The query roles are cluster-wide: create them committed, as `make run` does (tests/query/conftest.py)."""
    with django_db_blocker.unblock():
        call_command("setup_query_role", stdout=StringIO())


def test_query_roles_have_their_grants_again_after_downgrade_and_upgrade(query_roles, client_for):
    assert _can_select(settings.QUERY_ROLE, "posts")
    client = client_for("admin")
    assert client.post(CONFIRM, {"action": "downgrade", "revision": "base"}).status_code == 302
    assert client.post(CONFIRM, {"action": "upgrade"}).status_code == 302
    for role in (settings.QUERY_ROLE, settings.QUERY_WRITE_ROLE):
        assert _can_select(role, "posts") and _can_select(role, "users"), role


@pytest.mark.slow
def test_command_line_downgrade_dropping_rows_shows_counts_and_needs_a_backup_and_yes(scratch_db):
    db = scratch_db(migrated=True)
    ok(db.psql("INSERT INTO users (username, email) VALUES ('a', 'a@x'), ('b', 'b@x'); "
               "INSERT INTO posts (title, content, user_id) SELECT 't', 'c', id FROM users"))
    last = failed(db.manage("alembic", "downgrade", "base", "--yes")).strip().splitlines()[-1]
    assert last.startswith("CommandError: downgrading to base drops posts (2 rows), users (2 rows): that needs a "
                           "backup verified OK")
    ok(db.psql("INSERT INTO backups (file, format, checksum, encrypted, started_at, finished_at, status, error, "
               "snapshot, progress_bytes, verified_at, verify_result, verify_ok) VALUES ('b.dump', 'custom', '', "
               "false, now(), now(), 'success', '', '{}', 0, now(), 'ok', true)"))
    last = failed(db.manage("alembic", "downgrade", "base")).strip().splitlines()[-1]
    assert last == ("CommandError: downgrading to base drops posts (2 rows), users (2 rows): pass --yes; nothing "
                    "was changed")
    assert db.exists("posts") and db.versions() == ["def456"]
    ok(db.manage("alembic", "downgrade", "base", "--yes"))
    assert not db.exists("users") and db.versions() == []
