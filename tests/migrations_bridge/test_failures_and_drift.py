"""A failing migration is rolled back and logged as failed; drift makes `manage.py alembic check` exit 1."""

import pytest

from tests.migrations_bridge.conftest import failed, ok

pytestmark = pytest.mark.slow
FAILING = "tests.settings_failing"


def _migrated(scratch_db):
    return scratch_db(migrated=True)


def test_failing_migration_leaves_schema_and_version_and_logs_failed(scratch_db):
    db = _migrated(scratch_db)
    before = db.catalog()
    result = db.manage("migrate", "--noinput", settings_module=FAILING)
    assert result.returncode != 0 and "division by zero" in result.stderr
    assert db.catalog() == before  # half_done column and its index rolled back
    assert db.versions() == ["def456"]
    assert not db.query("SELECT 1 FROM django_migrations WHERE app = 'failing_app'")
    action, status, app, name, revision, from_revision, _user, error, duration = db.log()[-1]
    assert (action, status, app, name, revision, from_revision) == (
        "migrate", "failed", "failing_app", "0001_breaks", "bad001", "def456")
    assert "division by zero" in error and duration is not None


def test_failing_upgrade_is_one_line_and_logged(scratch_db):
    db = _migrated(scratch_db)
    before = db.catalog()
    result = db.manage("alembic", "upgrade", "head", "--user", "deployer", settings_module=FAILING)
    stderr = failed(result)
    assert stderr.strip().splitlines()[-1].startswith("CommandError: upgrade failed, nothing of that migration "
                                                      "was kept: division by zero")
    assert db.catalog() == before and db.versions() == ["def456"]
    assert db.log()[-1][:3] == ("upgrade", "failed", "failing_app") and db.log()[-1][6] == "deployer"
    # The real Alembic CLI still reads the untouched version.
    assert ok(db.alembic("current")).strip() == "def456 (head)"


def test_check_passes_when_in_step(scratch_db):
    db = _migrated(scratch_db)
    assert "in sync" in ok(db.manage("alembic", "check"))


@pytest.mark.parametrize("break_it, message", [
    ("UPDATE alembic_version SET version_num = 'abc123'",
     "alembic_version is abc123 (blog.0001_create_users_table) but Django's mirrored migrations are applied up to "
     "def456 (blog.0002_create_posts_table)"),
    ("INSERT INTO alembic_version VALUES ('abc123')", "alembic_version has 2 rows (abc123, def456)"),
    ("UPDATE alembic_version SET version_num = 'zzz999'", "alembic_version is 'zzz999', which no Django migration"),
    ("DELETE FROM alembic_version", "alembic_version is empty (base) but Django's mirrored migrations are applied"),
    ("DELETE FROM django_migrations WHERE app = 'blog' AND name = '0001_create_users_table'",
     "Django has applied later mirrored migrations without blog.0001_create_users_table"),
])
def test_drift_makes_check_exit_1_with_a_clear_message(scratch_db, break_it, message):
    db = _migrated(scratch_db)
    ok(db.psql(break_it))
    result = db.manage("alembic", "check")
    assert result.returncode == 1
    last = failed(result).strip().splitlines()[-1]
    assert last.startswith("CommandError: ") and message in last


def test_alembic_built_database_not_adopted_is_drift(scratch_db):
    db = scratch_db()
    ok(db.alembic("upgrade", "head"))
    result = db.manage("alembic", "check")
    assert result.returncode == 1 and "run `manage.py alembic adopt`" in result.stderr


def test_multiple_rows_and_unknown_revision_are_one_line_errors(scratch_db):
    db = _migrated(scratch_db)
    assert failed(db.manage("alembic", "stamp", "nope")).strip() == (
        "CommandError: unknown revision 'nope': known revisions are abc123, def456 (or head, base)")
    ok(db.psql("INSERT INTO alembic_version VALUES ('abc123')"))
    for args in (["current"], ["upgrade", "head"], ["downgrade", "base"], ["stamp", "abc123"], ["adopt"]):
        last = failed(db.manage("alembic", *args)).strip().splitlines()[-1]
        assert last.startswith("CommandError: alembic_version has 2 rows (abc123, def456)"), (args, last)
    assert db.exists("posts") and sorted(db.versions()) == ["abc123", "def456"]  # nothing lost
    ok(db.manage("alembic", "stamp", "def456", "--purge"))
    assert db.versions() == ["def456"]
    ok(db.manage("alembic", "check"))


def test_unreachable_database_is_a_one_line_error(scratch_db):
    db = scratch_db()
    db.url = db.url.replace(db.name, "pgdeck_no_such_database")
    for sub in ("current", "check", "history"):
        last = failed(db.manage("alembic", sub)).strip().splitlines()
        assert len(last) == 1 and "cannot connect to database pgdeck_no_such_database" in last[0], last


def test_unknown_database_alias_is_a_one_line_error(scratch_db):
    db = _migrated(scratch_db)
    assert failed(db.manage("alembic", "current", "--database", "other")).strip() == (
        "CommandError: unknown database alias 'other': choose one of default")
    assert failed(db.manage("alembic", "upgrade")).strip().splitlines()[-1].startswith("manage.py alembic upgrade: "
                                                                                       "error: the following")


def test_stamp_then_sync_are_logged_and_real_alembic_follows(scratch_db):
    db = _migrated(scratch_db)
    assert "no migration ran" in ok(db.manage("alembic", "stamp", "abc123", "--user", "ops"))
    assert db.exists("posts") and ok(db.alembic("current")).strip() == "abc123"
    assert failed(db.manage("alembic", "check"))
    assert "alembic_version is def456" in ok(db.manage("alembic", "sync", "--user", "ops"))
    assert ok(db.alembic("current")).strip() == "def456 (head)"
    assert [(r[0], r[1], r[4], r[5]) for r in db.log() if r[6] == "ops"] == [
        ("stamp", "success", "abc123", "def456"), ("sync", "success", "def456", "abc123")]
    ok(db.manage("alembic", "stamp", "base"))
    assert db.versions() == [] and db.exists("alembic_version")
