"""The migrations admin screen and the API, in-process on the test database (each test rolls back its DDL)."""

import psycopg
import pytest
from django.db import connection

from accounts.services import api_key_create
from dbtools.migrations_bridge.catalog import conninfo_for
from dbtools.models import AuditEvent, MigrationLog

URL, CONFIRM = "/admin/dbtools/migrations/", "/admin/dbtools/migrations/confirm/"


@pytest.fixture(autouse=True)
def forget_log_rows(db):
    """migrations_log rows are written on their own connection (they outlive rollbacks): remove this test's."""
    first = MigrationLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    yield
    with psycopg.connect(conninfo_for(connection.settings_dict), autocommit=True) as conn:
        conn.execute("DELETE FROM migrations_log WHERE id > %s", [first])


def table_exists(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{name}"])
        return cursor.fetchone()[0]


def versions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT version_num FROM alembic_version")
        return [row[0] for row in cursor.fetchall()]


def test_viewer_cannot_see_the_screen(client_for):
    assert client_for("viewer").get(URL).status_code == 403


def test_analyst_sees_state_without_actions(client_for):
    response = client_for("analyst").get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="in-sync"' in html and "alembic_version is def456" in html
    assert "blog.0002_create_posts_table" in html and 'id="migration-actions"' not in html
    assert client_for("analyst", username="a2").post(CONFIRM, {"action": "downgrade", "revision": "base"}
                                                     ).status_code == 403
    assert table_exists("posts") and versions() == ["def456"]


def test_operator_downgrades_after_seeing_the_sql_then_upgrades(client_for):
    client = client_for("operator")
    page = client.get(CONFIRM, {"action": "downgrade", "revision": "abc123"}).content.decode()
    assert "Unapply blog.0002_create_posts_table" in page and "DROP TABLE posts;" in page
    # Only the search indexes on posts/users depend on blog's migrations (dbtools.0003); the roles stay.
    assert "other apps that depend on these: " in page and "dbtools.0005_blog_search_indexes" in page
    assert table_exists("posts")  # the preview changed nothing
    response = client.post(CONFIRM, {"action": "downgrade", "revision": "abc123"})
    assert response.status_code == 302
    assert not table_exists("posts") and versions() == ["abc123"]
    assert AuditEvent.objects.filter(action="migration.downgrade", actor_name="operator-user",
                                     target="abc123").exists()
    row = MigrationLog.objects.filter(user="operator-user").get()
    assert (row.action, row.status, row.revision, row.from_revision) == ("downgrade", "success", "abc123", "def456")
    assert client.get(URL).status_code == 200  # the operator's role survived the downgrade
    client = client_for("admin")
    page = client.get(CONFIRM, {"action": "upgrade"}).content.decode()
    assert "Apply blog.0002_create_posts_table" in page and "CREATE TABLE posts" in page
    client.post(CONFIRM, {"action": "upgrade"})
    assert table_exists("posts") and versions() == ["def456"]
    assert "Upgrade done: alembic_version is now def456" in client.get(URL).content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_posts_title_trgm'")
        assert cursor.fetchone()[0] == 1  # applied again with the rest of head


def test_bad_revision_is_a_form_error_and_changes_nothing(client_for):
    client = client_for("operator")
    for method in (client.get, client.post):
        response = method(CONFIRM, {"action": "downgrade", "revision": "<b>nope</b>"})
        html = response.content.decode()
        assert response.status_code == 200 and 'id="revision-errors"' in html
        assert "&lt;b&gt;nope&lt;/b&gt;" in html and "<b>nope</b>" not in html
    assert table_exists("posts") and versions() == ["def456"]


def test_drift_banner_and_log_filters(client_for):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE alembic_version SET version_num = 'abc123'")
    MigrationLog.objects.create(action="upgrade", status="failed", revision="def456", user="alice", error="boom")
    MigrationLog.objects.create(action="stamp", status="success", revision="abc123", user="bob")
    client = client_for("analyst")
    html = client.get(URL).content.decode()
    assert 'id="drift-banner"' in html and "run `manage.py alembic sync`" in html
    assert "alembic_version is abc123 (blog.0001_create_users_table)" in html
    failed = client.get(URL, {"status": "failed"}).content.decode()
    assert "alice" in failed and "bob" not in failed
    stamps = client.get(URL, {"action": "stamp", "since": "2000-01-01"}).content.decode()
    assert "bob" in stamps and "alice" not in stamps
    bad = client.get(URL, {"since": "yesterday-ish"})
    assert bad.status_code == 200 and "Enter a valid date." in bad.content.decode()


def test_migration_log_admin_is_read_only(client_for):
    MigrationLog.objects.create(action="adopt", status="success", revision="def456", user="carol")
    client = client_for("analyst")
    assert "carol" in client.get("/admin/dbtools/migrationlog/").content.decode()
    assert client.get("/admin/dbtools/migrationlog/add/").status_code == 403


def _api(client, key):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def api_client(make_user, client):
    def make(role, scopes):
        _key, plaintext = api_key_create(user=make_user(role), name="t", scopes=scopes)
        return _api(client, plaintext)

    return make


def test_api_state_with_a_read_key(api_client):
    body = api_client("analyst", ["read"]).get("/api/v1/migrations").json()
    assert body["alembic"]["current"] == "def456" and body["in_sync"] is True and body["drift"] == []
    assert [e["revision"] for e in body["django"]["chain"]] == ["abc123", "def456"]


def test_api_writes_need_the_admin_scope(api_client):
    response = api_client("operator", ["operate"]).post("/api/v1/migrations/downgrade", {"revision": "base"},
                                                        content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert table_exists("posts") and versions() == ["def456"]


def test_api_downgrade_and_upgrade_with_an_admin_key(api_client):
    client = api_client("admin", ["admin"])
    response = client.post("/api/v1/migrations/downgrade", {"revision": "abc123"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["revision"] == "abc123"
    assert not table_exists("posts") and versions() == ["abc123"]
    bad = client.post("/api/v1/migrations/downgrade", {"revision": "def456"}, content_type="application/json")
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "wrong_direction"
    response = client.post("/api/v1/migrations/upgrade", {"revision": "head"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["alembic"]["current"] == "def456"
    assert table_exists("posts")
    assert list(AuditEvent.objects.filter(action__startswith="migration.").order_by("id")
                .values_list("action", "details__outcome")) == [
        ("migration.downgrade", "success"), ("migration.downgrade", "failed"), ("migration.upgrade", "success")]


def test_api_bad_input_is_a_json_4xx_and_changes_nothing(api_client):
    client = api_client("admin", ["admin"])
    unknown = client.post("/api/v1/migrations/upgrade", {"revision": "zzz"}, content_type="application/json")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_revision"
    missing = client.post("/api/v1/migrations/upgrade", {}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid"
    typo = client.post("/api/v1/migrations/upgrade", {"revison": "head"}, content_type="application/json")
    assert typo.status_code == 400 and typo.json()["error"]["code"] == "unknown_field"
    assert table_exists("posts") and versions() == ["def456"]
