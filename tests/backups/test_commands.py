"""dbbackup / dbrestore / dbbackup verify through call_command against real scratch databases."""

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dbtools.backups.tools import connect
from dbtools.models import AuditEvent, Backup
from tests.backups.conftest import run_sql, sample_rows, scratch_databases, table_counts

pytestmark = pytest.mark.django_db


def backup(source_db, *args):
    out = StringIO()
    call_command("dbbackup", "--source-db", source_db, *args, stdout=out)
    return Backup.objects.order_by("-pk").first(), out.getvalue()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", ["custom", "plain", "directory"])
def test_round_trip_each_format(fmt, source_db, databases, backup_dir):
    row, out = backup(source_db, "--format", fmt)
    assert row.status == "success" and row.format == fmt and row.finished_at and row.size > 0
    assert "written" in out and f"backup #{row.pk} done" in out
    assert row.snapshot["tables"] == {"public.authors": 50, "public.articles": 700, 'extra.Odd Name': 30}
    assert Path(row.file).exists() and not list(backup_dir.glob("*.partial"))
    assert Path(row.file + ".sha256").read_text().split()[0] == row.checksum
    assert json.loads(Path(row.file + ".manifest.json").read_text())["tables"] == row.snapshot["tables"]
    if fmt != "directory":
        assert sha256(row.file) == row.checksum
    target = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    assert table_counts(target) == table_counts(source_db) == (50, 700, 30)
    assert sample_rows(target) == sample_rows(source_db)
    assert AuditEvent.objects.filter(action="backup.restore", details__result="success").exists()


def test_restore_over_existing_database_replaces_its_rows(source_db, databases, backup_dir):
    """The backup's rows replace the target's; the target's schema, and tables the backup lacks, stay."""
    row, _ = backup(source_db)
    target = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    run_sql(target, "DELETE FROM articles WHERE id > 5; UPDATE authors SET name = name || '!'; "
                    "CREATE TABLE keepme (x int); INSERT INTO keepme VALUES (1)")
    call_command("dbrestore", row.file, "--target-db", target, stdout=StringIO())
    assert table_counts(target) == (50, 700, 30) and sample_rows(target) == sample_rows(source_db)
    assert run_sql(target, "SELECT count(*) FROM authors WHERE name LIKE '%!'") == [(0,)]
    assert run_sql(target, "SELECT x FROM keepme") == [(1,)]
    assert run_sql(target, "SELECT nextval('articles_id_seq')") == [(701,)]


def test_existing_target_with_another_schema_is_refused(source_db, databases, backup_dir):
    row, _ = backup(source_db)
    target = databases.new()
    run_sql(target, "CREATE TABLE authors (id int); INSERT INTO authors VALUES (1), (2)")
    with pytest.raises(CommandError, match="its schema is not the backup's"):
        call_command("dbrestore", row.file, "--target-db", target)
    assert run_sql(target, "SELECT id FROM authors ORDER BY id") == [(1,), (2,)]


def test_encrypted_round_trip(source_db, databases, backup_dir, settings):
    settings.BACKUP_ENCRYPTION_KEY = "correct horse battery staple"
    for fmt in ("custom", "plain"):
        row, _ = backup(source_db, "--format", fmt, "--encrypt")
        assert row.encrypted and row.file.endswith(".enc")
        assert b"secret-marker" not in Path(row.file).read_bytes()
        assert sha256(row.file) == row.checksum
        target = databases.reserve()
        call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
        assert sample_rows(target) == sample_rows(source_db)


def test_wrong_key_is_a_clear_error_and_target_untouched(source_db, databases, backup_dir, settings):
    settings.BACKUP_ENCRYPTION_KEY = "key-one"
    row, _ = backup(source_db, "--encrypt")
    settings.BACKUP_ENCRYPTION_KEY = "key-two"
    target = databases.new()
    run_sql(target, "CREATE TABLE precious (x int); INSERT INTO precious VALUES (42)")
    with pytest.raises(CommandError, match="wrong encryption key"):
        call_command("dbrestore", row.file, "--target-db", target)
    assert run_sql(target, "SELECT x FROM precious") == [(42,)]
    assert run_sql(target, "SELECT to_regclass('public.authors')")[0][0] is None
    missing = databases.reserve()
    with pytest.raises(CommandError, match="wrong encryption key"):
        call_command("dbrestore", row.file, "--target-db", missing, "--create")
    assert run_sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = %s", [missing]) == [(0,)]


def test_encrypt_without_key_is_refused(source_db, backup_dir):
    with pytest.raises(CommandError, match="BACKUP_ENCRYPTION_KEY"):
        backup(source_db, "--encrypt")
    assert not list(backup_dir.iterdir())


def test_corrupted_file_fails_checksum_and_target_untouched(source_db, databases, backup_dir):
    row, _ = backup(source_db)
    data = bytearray(Path(row.file).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(row.file).write_bytes(bytes(data))
    target = databases.new()
    run_sql(target, "CREATE TABLE authors (id int); INSERT INTO authors VALUES (7)")
    with pytest.raises(CommandError, match="checksum mismatch"):
        call_command("dbrestore", row.file, "--target-db", target)
    assert run_sql(target, "SELECT id FROM authors") == [(7,)]


@pytest.mark.parametrize("fmt", ["custom", "plain"])
def test_truncated_file_with_matching_sidecar_rolls_back(fmt, source_db, databases, backup_dir):
    """Even when the checksum is fooled, a restore that breaks off midway leaves the target as it was."""
    row, _ = backup(source_db, "--format", fmt)
    data = Path(row.file).read_bytes()
    Path(row.file).write_bytes(data[: int(len(data) * 0.6)])
    Path(row.file + ".sha256").write_text(f"{sha256(row.file)}  {Path(row.file).name}\n")
    Backup.objects.filter(pk=row.pk).update(checksum=sha256(row.file))
    target = databases.new()
    run_sql(target, "CREATE TABLE authors (id int); INSERT INTO authors VALUES (7)")
    with pytest.raises(CommandError, match="rolled back") as caught:
        call_command("dbrestore", row.file, "--target-db", target)
    assert "\n" not in str(caught.value)
    assert run_sql(target, "SELECT id FROM authors") == [(7,)]
    assert run_sql(target, "SELECT to_regclass('public.articles')")[0][0] is None


def test_conflicting_object_fails_halfway_and_target_unchanged(source_db, databases, backup_dir):
    row, _ = backup(source_db)
    target = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    run_sql(target, "DELETE FROM articles WHERE id > 100; CREATE VIEW article_titles AS SELECT title FROM articles; "
                    "ALTER TABLE articles ADD CONSTRAINT short_titles CHECK (length(title) < 9) NOT VALID")
    with pytest.raises(CommandError, match="rolled back.*short_titles"):
        call_command("dbrestore", row.file, "--target-db", target)
    assert table_counts(target) == (50, 100, 30)
    assert run_sql(target, "SELECT count(*) FROM pg_indexes WHERE indexname = 'articles_author'") == [(1,)]
    assert run_sql(target, "SELECT count(*) FROM article_titles") == [(100,)]


def test_failed_create_restore_drops_the_new_database(source_db, databases, backup_dir):
    row, _ = backup(source_db, "--format", "plain")
    Path(row.file).write_text(Path(row.file).read_text() + "\nSELECT * FROM no_such_table;\n")
    Backup.objects.filter(pk=row.pk).update(checksum=sha256(row.file))
    target = databases.reserve()
    with pytest.raises(CommandError, match="no_such_table"):
        call_command("dbrestore", row.file, "--target-db", target, "--create")
    assert run_sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = %s", [target]) == [(0,)]


def test_target_rules(source_db, databases, backup_dir):
    row, _ = backup(source_db)
    with pytest.raises(CommandError, match="does not exist; add --create"):
        call_command("dbrestore", row.file, "--target-db", databases.reserve())
    with pytest.raises(CommandError, match="already exists"):
        call_command("dbrestore", row.file, "--target-db", source_db, "--create")
    with pytest.raises(CommandError, match="invalid database name"):
        call_command("dbrestore", row.file, "--target-db", "x; DROP")
    assert table_counts(source_db) == (50, 700, 30)


def test_live_database_needs_yes(source_db, backup_dir):
    row, _ = backup(source_db)
    before = Backup.objects.count()
    with pytest.raises(CommandError, match="live database .* confirm with --yes"):
        call_command("dbrestore", row.file)
    assert Backup.objects.count() == before
    assert not AuditEvent.objects.filter(action="backup.restore").exists()


def test_missing_file_and_unknown_subcommand(backup_dir):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("dbrestore", str(backup_dir / "nope.dump"), "--target-db", "whatever")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("dbbackup", "verify", str(backup_dir / "nope.dump"))
    with pytest.raises(CommandError, match="usage"):
        call_command("dbbackup", "frobnicate")
    with pytest.raises(CommandError, match="table 'nope' does not exist"):
        call_command("dbbackup", "--table", "nope")
    assert not [p for p in backup_dir.iterdir() if not p.name.endswith(".partial")]


def test_unreachable_database_is_one_line(backup_dir, settings, monkeypatch):
    monkeypatch.setitem(settings.DATABASES["default"], "HOST", "127.0.0.1")
    monkeypatch.setitem(settings.DATABASES["default"], "PORT", "1")
    with pytest.raises(CommandError, match="cannot connect to database") as caught:
        call_command("dbbackup", stdout=StringIO())
    assert "\n" not in str(caught.value)
    assert not Backup.objects.exists() and not AuditEvent.objects.exists()  # checked before anything is written
    assert not list(backup_dir.iterdir())


def test_schema_only_and_table_selection(source_db, databases, backup_dir):
    row, _ = backup(source_db, "--schema-only", "--verify")
    assert row.snapshot["schema_only"] and row.snapshot["tables"]["public.articles"] == 0
    row.refresh_from_db()
    assert row.verify_ok is True
    row, _ = backup(source_db, "--table", "articles", "--table", "authors", "--verify")
    assert set(row.snapshot["tables"]) == {"public.articles", "public.authors"}
    target = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    assert run_sql(target, "SELECT to_regnamespace('extra')")[0][0] is None
    assert run_sql(target, "SELECT count(*) FROM articles") == [(700,)]


def test_verify_records_result_and_drops_scratch(source_db, backup_dir, scratch_names):
    row, out = backup(source_db, "--verify")
    row.refresh_from_db()
    assert row.verify_ok is True and row.verified_at and "3 tables and 780 rows" in row.verify_result
    assert "verified: 3 tables and 780 rows match the snapshot" in out
    assert scratch_names and not set(scratch_names) & set(scratch_databases())
    assert AuditEvent.objects.filter(action="backup.verify", details__result="success").count() == 1


def test_verify_detects_a_snapshot_mismatch(source_db, backup_dir, scratch_names):
    """The row's snapshot is what verify compares with; the manifest beside the file is not believed."""
    row, _ = backup(source_db)
    manifest = Path(row.file + ".manifest.json")
    data = json.loads(manifest.read_text())
    data["tables"]["public.articles"] = 5
    manifest.write_text(json.dumps(data))
    call_command("dbbackup", "verify", row.file, stdout=StringIO())
    row.snapshot["tables"]["public.articles"] = 701
    Backup.objects.filter(pk=row.pk).update(snapshot=row.snapshot)
    with pytest.raises(CommandError, match="verify failed: row counts differ: public.articles 701→700"):
        call_command("dbbackup", "verify", row.file, stdout=StringIO())
    row.refresh_from_db()
    assert row.verify_ok is False and "701" in row.verify_result
    assert scratch_names and not set(scratch_names) & set(scratch_databases())


def test_verify_from_the_file_alone(source_db, backup_dir, settings):
    settings.BACKUP_ENCRYPTION_KEY = "k"
    row, _ = backup(source_db, "--encrypt", "--format", "plain")
    Backup.objects.all().delete()
    out = StringIO()
    call_command("dbbackup", "verify", row.file, stdout=out)
    assert "verified: 3 tables and 780 rows match the snapshot" in out.getvalue()
    settings.BACKUP_ENCRYPTION_KEY = "other"
    with pytest.raises(CommandError, match="wrong encryption key"):
        call_command("dbbackup", "verify", row.file, stdout=StringIO())


def test_restore_over_the_live_database_with_yes(source_db, databases, backup_dir, settings, monkeypatch):
    """The "live" database is the configured one; pointed at a scratch copy here so the test database is spared."""
    row, _ = backup(source_db)
    live = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", live, "--create", stdout=StringIO())
    run_sql(live, "DELETE FROM articles WHERE id > 1")
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", live)  # Django's open connection stays put
    with pytest.raises(CommandError, match=f"live database {live} replaces its data"):
        call_command("dbrestore", row.file)
    with pytest.raises(CommandError, match="needs a full backup of it, verified, made in the last 60 minutes"):
        call_command("dbrestore", row.file, "--yes")
    assert table_counts(live) == (50, 1, 30)
    call_command("dbbackup", "--verify", stdout=StringIO())  # the safety net: the live data as it is now
    out = StringIO()
    call_command("dbrestore", row.file, "--yes", stdout=out)
    assert f"into database {live}" in out.getvalue()
    assert table_counts(live) == (50, 700, 30)
    event = AuditEvent.objects.filter(action="backup.restore", details__database=live).latest("pk")
    assert event.details["rolled_back"] == {"public.articles": {"before": 1, "after": 700}}


def test_live_restore_by_a_non_admin_is_refused_whatever_the_path(source_db, databases, backup_dir, settings,
                                                                  monkeypatch, make_user):
    row, _ = backup(source_db)
    live = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", live, "--create", stdout=StringIO())
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", live)
    make_user("operator", username="op")
    with pytest.raises(CommandError, match="op may not do this.*restore_backup"):
        call_command("dbrestore", row.file, "--yes", "--user", "op")
    settings.RESTORE_REQUIRES_VERIFIED_BACKUP_MINUTES = 0
    call_command("dbrestore", row.file, "--yes", stdout=StringIO())


@pytest.mark.parametrize("damage, message", [("flip", "chunk authentication failed"), ("cut", "truncated")])
def test_tampered_encrypted_file_is_refused_midway(damage, message, source_db, databases, backup_dir, settings):
    """Checksum rewritten to match: decryption itself catches the damage, and the restore is rolled back."""
    settings.BACKUP_ENCRYPTION_KEY = "k"
    for _ in range(3):  # > 1 MiB of plaintext, so the damage is in a later chunk than the first
        run_sql(source_db, "INSERT INTO articles (author_id, title, body) "
                           "SELECT 1, 't', repeat(md5(random()::text), 40) FROM generate_series(1, 400)")
    row, _ = backup(source_db, "--encrypt", "--format", "plain")
    data = bytearray(Path(row.file).read_bytes())
    if damage == "flip":
        data[-100] ^= 0x01
    else:
        data = data[: len(data) - 50]
    Path(row.file).write_bytes(bytes(data))
    Backup.objects.filter(pk=row.pk).update(checksum=sha256(row.file))
    target = databases.new()
    run_sql(target, "CREATE TABLE authors (id int); INSERT INTO authors VALUES (5)")
    with pytest.raises(CommandError, match=message):
        call_command("dbrestore", row.file, "--target-db", target)
    assert run_sql(target, "SELECT id FROM authors") == [(5,)]
    assert run_sql(target, "SELECT to_regclass('public.articles')")[0][0] is None


def test_rows_a_non_admins_backup_left_out_are_kept_by_a_restore(make_user, source_db, databases, backup_dir):
    run_sql(source_db, "CREATE TABLE django_session (session_key text PRIMARY KEY, session_data text); "
                       "INSERT INTO django_session VALUES ('k1', 'secret-session')")
    full, _ = backup(source_db)
    target = databases.reserve()
    call_command("dbrestore", full.file, "--target-db", target, "--create", stdout=StringIO())
    make_user("operator", username="op")
    operators, _ = backup(source_db, "--user", "op")
    assert operators.snapshot["excluded_data"] == ["public.django_session"]
    assert b"secret-session" not in Path(operators.file).read_bytes()
    run_sql(target, "DELETE FROM articles")
    call_command("dbrestore", operators.file, "--target-db", target, stdout=StringIO())
    assert table_counts(target) == (50, 700, 30)
    assert run_sql(target, "SELECT session_data FROM django_session") == [("secret-session",)]


def test_restore_blocked_by_a_lock_fails_cleanly(source_db, databases, backup_dir, settings):
    settings.BACKUP_LOCK_WAIT_TIMEOUT = 1
    row, _ = backup(source_db)
    target = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    run_sql(target, "DELETE FROM articles WHERE id > 10")
    with connect(target, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(CommandError, match="rolled back: the target refused the rows: .*lock timeout") as caught:
            call_command("dbrestore", row.file, "--target-db", target)
        blocker.rollback()
    assert "\n" not in str(caught.value)
    assert table_counts(target) == (50, 10, 30)
