"""Issue 20, items 1, 2 and 5: every writer of alembic_version compares before it sets, and all of them (plain
`manage.py migrate`, `manage.py alembic`, the real `alembic` CLI) take the same migration lock."""

import sys

import psycopg
import pytest

from dbtools.migrations_bridge.lock import MIGRATION_LOCK_KEY
from tests.migrations_bridge.conftest import failed, ok

pytestmark = pytest.mark.slow


def _at_abc123(scratch_db):
    db = scratch_db(migrated=True)
    ok(db.manage("migrate", "blog", "0001_create_users_table", "--noinput"))
    assert db.versions() == ["abc123"] and not db.exists("posts")
    return db


@pytest.mark.parametrize("break_it, found", [
    ("UPDATE alembic_version SET version_num = 'zzz999'", "holds zzz999 where abc123 was expected"),
    ("INSERT INTO alembic_version VALUES ('ghi000')", "holds abc123, ghi000 where abc123 was expected"),
    ("DROP TABLE alembic_version", "does not exist where abc123 was expected"),
])
def test_migrate_never_overwrites_what_it_did_not_expect(scratch_db, break_it, found):
    db = _at_abc123(scratch_db)
    ok(db.psql(break_it))
    before = sorted(db.versions())
    stderr = failed(db.manage("migrate", "blog", "0002_create_posts_table", "--noinput"))
    assert stderr.strip().splitlines()[-1].startswith(f"MigrationRefused: alembic_version {found} (moving to "
                                                      "def456); nothing was written")
    assert sorted(db.versions()) == before and not db.exists("posts")  # nothing ran, nothing written
    assert not db.query("SELECT 1 FROM django_migrations WHERE name = '0002_create_posts_table'")
    action, status, app, name, revision, from_revision, _user, error, _ms = db.log()[-1]
    assert (action, status, app, name, revision) == ("migrate", "failed", "blog", "0002_create_posts_table",
                                                     "def456")
    assert from_revision == ",".join(before) and found in error


def test_unapply_moves_the_version_in_the_same_transaction_and_checks_it(scratch_db):
    db = scratch_db(migrated=True)
    ok(db.psql("UPDATE alembic_version SET version_num = 'zzz999'"))
    stderr = failed(db.manage("migrate", "blog", "0001_create_users_table", "--noinput"))
    assert "alembic_version holds zzz999 where def456 was expected (moving to abc123)" in stderr
    assert db.exists("posts") and db.versions() == ["zzz999"]
    assert db.query("SELECT count(*) FROM django_migrations WHERE app = 'blog'") == [(2,)]


def test_migrate_after_alembic_upgrade_recognises_the_migrations_as_applied(scratch_db):
    db = scratch_db()
    ok(db.alembic("upgrade", "head"))
    out = ok(db.manage("migrate", "--noinput"))  # was: relation "users" already exists (a traceback)
    assert "Applying blog.0001_create_users_table" in out
    assert db.versions() == ["def456"]
    assert db.query("SELECT name FROM django_migrations WHERE app = 'blog' ORDER BY name") == [
        ("0001_create_users_table",), ("0002_create_posts_table",)]
    assert [(r[0], r[1], r[3]) for r in db.log() if r[2] == "blog"] == [
        ("adopt", "success", "0001_create_users_table"), ("adopt", "success", "0002_create_posts_table")]
    assert "in sync" in ok(db.manage("alembic", "check"))


@pytest.fixture
def lock_held(scratch_db):
    """A migrated scratch database whose migration lock another session holds for the whole test."""
    db = scratch_db(migrated=True)
    ok(db.manage("migrate", "blog", "zero", "--noinput"))
    with psycopg.connect(db.conninfo, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        yield db


def test_real_alembic_cli_waits_for_the_migration_lock(lock_held):
    db = lock_held
    result = db.alembic("-x", "lock_timeout=1", "upgrade", "head")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "FAILED: another migration held the migration lock" in result.stdout
    assert db.versions() == [] and not db.exists("users")


def test_manage_migrate_waits_for_the_migration_lock(lock_held):
    db = lock_held
    result = db.run([sys.executable, "manage.py", "migrate", "--noinput"], MIGRATION_LOCK_TIMEOUT="1")
    assert failed(result).strip().splitlines()[-1].startswith("LockBusy: another migration held the migration lock")
    assert db.versions() == [] and not db.exists("users")
    result = db.run([sys.executable, "manage.py", "alembic", "upgrade", "head"], MIGRATION_LOCK_TIMEOUT="1")
    assert "another migration held the migration lock" in failed(result)


def test_read_only_alembic_commands_never_write_log_rows(scratch_db):
    db = scratch_db(migrated=True)
    ok(db.psql("UPDATE alembic_version SET version_num = 'zzz999'"))
    rows = len(db.log())
    for args in (["current"], ["history"], ["check"]):
        db.alembic(*args)
    assert "Can't locate revision identified by 'zzz999'" in db.alembic("current").stderr
    assert failed(db.manage("alembic", "current")).strip() == (
        "CommandError: alembic_version is 'zzz999', which no Alembic script knows (nor any Django migration): see "
        "`manage.py alembic check`")  # was: exit 0
    assert len(db.log()) == rows


def test_offline_sql_is_runnable_and_takes_the_lock(scratch_db):
    db = scratch_db()
    script = ok(db.alembic("upgrade", "head", "--sql"))
    assert ";;" not in script and f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY});" in script
    ok(db.psql(script))
    assert db.versions() == ["def456"] and db.exists("posts")
