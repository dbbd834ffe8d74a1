"""The issue's paths with the real CLIs on scratch databases: manage.py migrate, alembic, psql."""

import sys

import pytest
from django.conf import settings

from blog.search_schema import SEARCH_INDEXES
from blog.seed_schema import POSTS_DDL, USERS_DDL
from tests.migrations_bridge.conftest import failed, ok

pytestmark = pytest.mark.slow


def test_migrate_then_real_alembic_current_prints_head(scratch_db):
    db = scratch_db()
    ok(db.manage("migrate", "--noinput"))
    assert ok(db.alembic("current")).strip() == "def456 (head)"
    log = [(r[0], r[1], r[3], r[4], r[5]) for r in db.log()]
    assert log == [("migrate", "success", "0001_create_users_table", "abc123", ""),
                   ("migrate", "success", "0002_create_posts_table", "def456", "abc123")]
    # A second migrate changes nothing and logs nothing.
    ok(db.manage("migrate", "--noinput"))
    assert len(db.log()) == 2 and db.versions() == ["def456"]


def test_alembic_upgrade_then_adopt_then_migrate_is_a_noop_with_the_same_catalog(scratch_db):
    django_path, alembic_path = scratch_db(migrated=True), scratch_db()
    ok(alembic_path.alembic("upgrade", "head"))
    assert alembic_path.versions() == ["def456"]
    out = ok(alembic_path.manage("alembic", "adopt"))
    assert "blog.0001_create_users_table, blog.0002_create_posts_table" in out
    migrate_out = ok(alembic_path.manage("migrate", "--noinput"))
    assert "Applying blog." not in migrate_out
    assert "No migrations to apply" in ok(alembic_path.manage("migrate", "--noinput"))
    assert ok(alembic_path.alembic("current")).strip() == "def456 (head)"
    tables = ("users", "posts", "alembic_version")
    assert alembic_path.catalog(tables) == django_path.catalog(tables)
    assert not [r for r in alembic_path.log() if r[0] == "migrate"]  # nothing of blog ran


def test_alembic_and_django_paths_build_the_seed_ddl_exactly(scratch_db):
    django_path, alembic_path, seed = scratch_db(migrated=True), scratch_db(), scratch_db()
    ok(alembic_path.alembic("upgrade", "head"))
    ok(seed.psql(USERS_DDL + POSTS_DDL))
    expected = seed.catalog()
    assert expected["columns"] and expected["indexes"]
    # the Django path also runs pgdeck's own search indexes (dbtools 0004, on top of the seed's DDL)
    built = django_path.catalog()
    built["indexes"] = [row for row in built["indexes"] if row[1] not in SEARCH_INDEXES]
    assert {row[1] for row in django_path.catalog()["indexes"]} >= set(SEARCH_INDEXES)
    assert built == expected
    assert alembic_path.catalog() == expected
    tables = ("alembic_version",)
    assert django_path.catalog(tables) == alembic_path.catalog(tables)


def test_seed_sql_and_alembic_stamp_then_adopt(scratch_db):
    db = scratch_db()
    ok(db.psql(USERS_DDL + POSTS_DDL))
    ok(db.alembic("stamp", "def456"))
    ok(db.manage("migrate", "dbtools", "0001_initial", "--noinput"))  # migrations_log, so the adopt is logged
    out = ok(db.manage("alembic", "adopt", "--user", "ci-bot"))
    assert "recorded as applied" in out
    assert db.query("SELECT name FROM django_migrations WHERE app = 'blog' ORDER BY name") == [
        ("0001_create_users_table",), ("0002_create_posts_table",)]
    assert [(r[0], r[1], r[4], r[6]) for r in db.log()][-1] == ("adopt", "success", "def456", "ci-bot")
    assert "nothing to adopt" in ok(db.manage("alembic", "adopt"))
    ok(db.manage("alembic", "check"))


def test_adopt_refuses_a_hand_altered_schema_with_a_diff_and_changes_nothing(scratch_db):
    db = scratch_db()
    ok(db.psql(USERS_DDL + POSTS_DDL))
    ok(db.psql("ALTER TABLE posts ADD COLUMN extra integer; DROP INDEX idx_users_email;"))
    ok(db.alembic("stamp", "def456"))
    before = db.catalog(("users", "posts", "alembic_version"))
    stderr = failed(db.manage("alembic", "adopt"))
    assert "+column posts.extra integer NULL" in stderr
    assert "-index CREATE INDEX idx_users_email ON public.users USING btree (email)" in stderr
    assert stderr.strip().splitlines()[-1] == ("CommandError: the schema does not match the migrations up to "
                                               "blog.0002_create_posts_table; nothing was changed")
    assert db.catalog(("users", "posts", "alembic_version")) == before
    assert db.versions() == ["def456"]
    assert not db.exists("django_migrations") or not db.query(
        "SELECT 1 FROM django_migrations WHERE app = 'blog'")


def test_downgrade_drops_posts_real_alembic_agrees_and_upgrade_brings_it_back(scratch_db):
    db = scratch_db(migrated=True)
    head_catalog = db.catalog()
    ok(db.manage("alembic", "downgrade", "abc123", "--user", "ops"))
    assert not db.exists("posts") and db.exists("users")
    assert ok(db.alembic("current")).strip() == "abc123"
    ok(db.manage("alembic", "upgrade", "head", "--user", "ops"))
    assert db.exists("posts") and db.catalog() == head_catalog
    assert ok(db.alembic("current")).strip() == "def456 (head)"
    mine = [(r[0], r[1], r[3], r[4], r[5]) for r in db.log() if r[6] == "ops"]
    assert mine == [("downgrade", "success", "0002_create_posts_table", "abc123", "def456"),
                    ("upgrade", "success", "0002_create_posts_table", "def456", "abc123")]
    assert "accounts.0002_roles" in ok(db.manage("showmigrations", "accounts")).replace(" [X] ", "accounts.")


def test_real_alembic_downgrade_base_and_manage_current_reports_the_drift(scratch_db):
    db = scratch_db(migrated=True)
    ok(db.alembic("downgrade", "base"))
    assert not db.exists("users") and db.versions() == []
    out = ok(db.manage("alembic", "current"))
    assert "drift: alembic_version is empty (base)" in out


def test_real_alembic_cli_runs_are_logged_and_a_failure_row_survives(scratch_db):
    db = scratch_db(migrated=True)
    ok(db.alembic("-x", "user=ci", "downgrade", "base"))
    ok(db.psql("CREATE TABLE posts (id integer)"))  # in the way of abc123 -> def456
    result = db.alembic("-x", "user=ci", "upgrade", "head")
    assert result.returncode != 0 and 'relation "posts" already exists' in result.stderr
    assert not db.exists("users") and db.versions() == []  # abc123 rolled back with the failure
    cli = [(r[0], r[1], r[4], r[5]) for r in db.log() if r[6] == "ci (alembic CLI)"]
    assert cli == [("downgrade", "success", "abc123", "def456"), ("downgrade", "success", "", "abc123"),
                   ("upgrade", "failed", "def456", "")]  # the revision whose step failed, not "head"
    assert 'relation "posts" already exists' in db.log()[-1][7]


def test_adopt_without_createdb_is_a_one_line_error_and_changes_nothing(scratch_db):
    db = scratch_db()
    ok(db.alembic("upgrade", "head"))
    role = db.name.replace("scratch", "role")
    ok(db.psql(f"CREATE ROLE {role} LOGIN NOCREATEDB; GRANT ALL ON SCHEMA public TO {role}; "
               f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role};"))
    try:
        url = db.url.replace(f"//{settings.DATABASES['default']['USER']}", f"//{role}", 1)
        result = db.run([sys.executable, "manage.py", "alembic", "adopt"], DATABASE_URL=url)
        last = failed(result).strip().splitlines()
        assert len(last) == 1 and last[0].startswith("CommandError: adopt builds the expected schema in a scratch "
                                                     "database and could not create one (permission denied")
        assert not db.exists("django_migrations") and db.versions() == ["def456"]
    finally:
        ok(db.psql(f"DROP OWNED BY {role}; DROP ROLE {role};"))
