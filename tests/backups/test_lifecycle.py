"""A dump killed midway, client-tool selection, retention, and who may back up or restore (commands)."""

import os
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dbtools.backups.tools import connect, select_tools, server_version_num, tool_major
from dbtools.models import AuditEvent, Backup
from tests.backups.conftest import table_counts

pytestmark = pytest.mark.django_db


def fake_bin(tmp_path, pg_dump_script):
    """A folder whose pg_dump is `pg_dump_script` and whose pg_restore/psql are the real ones."""
    real = select_tools(server_version_num()).bin_dir
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "pg_dump").write_text(pg_dump_script.replace("REAL", str(real)))
    (folder / "pg_dump").chmod(0o755)
    for name in ("pg_restore", "psql"):
        os.symlink(real / name, folder / name)
    tool_major.cache_clear()
    return folder


KILLED_MIDWAY = """#!/bin/sh
if [ "$1" = "--version" ]; then exec REAL/pg_dump --version; fi
REAL/pg_dump "$@" | head -c 4000
kill -TERM $$
"""


@pytest.mark.parametrize("fmt", ["custom", "plain"])
def test_dump_killed_midway_leaves_nothing_marked_complete(fmt, source_db, backup_dir, settings, tmp_path):
    settings.BACKUP_PG_BIN_DIRS = [str(fake_bin(tmp_path, KILLED_MIDWAY))]
    with pytest.raises(CommandError, match="pg_dump was killed by signal 15"):
        call_command("dbbackup", "--source-db", source_db, "--format", fmt, stdout=StringIO())
    row = Backup.objects.get()
    assert row.status == "failed" and "killed" in row.error and row.finished_at and not row.checksum
    assert row.progress_bytes <= 4000
    assert list(backup_dir.iterdir()) == []
    assert AuditEvent.objects.filter(action="backup.create", details__result="failed").count() == 1


def test_too_old_client_tools_name_the_version_to_install(backup_dir, settings, tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    for name in ("pg_dump", "pg_restore", "psql"):
        (folder / name).write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
        (folder / name).chmod(0o755)
    tool_major.cache_clear()
    settings.BACKUP_PG_BIN_DIRS = [str(folder)]
    major = server_version_num() // 10000
    with pytest.raises(CommandError) as caught:
        call_command("dbbackup", stdout=StringIO())
    message = str(caught.value)
    assert f"pg_dump/pg_restore {major} or newer are needed" in message and "found: 9" in message
    assert f"apt-get install postgresql-client-{major}" in message and "\n" not in message
    assert list(backup_dir.iterdir()) == []


def test_selected_tools_match_or_exceed_the_server():
    tools = select_tools(server_version_num())
    assert tools.major >= server_version_num() // 10000
    assert tool_major(tools.path("pg_restore")) == tools.major


def test_keep_prunes_older_files_and_rows(source_db, backup_dir):
    files = []
    for _ in range(3):
        call_command("dbbackup", "--source-db", source_db, stdout=StringIO())
        files.append(Backup.objects.order_by("-pk").first().file)
    out = StringIO()
    call_command("dbbackup", "--source-db", source_db, "--keep", "2", stdout=out)
    assert Backup.objects.count() == 2
    assert out.getvalue().count("pruned backup #") == 2
    assert not Path(files[0]).exists() and not Path(files[0] + ".sha256").exists()
    assert not Path(files[1]).exists() and Path(files[2]).exists()
    assert sorted(p.name for p in backup_dir.iterdir() if p.suffix in (".dump",)) == sorted(
        Path(b.file).name for b in Backup.objects.all())
    assert AuditEvent.objects.filter(action="backup.delete").count() == 2


def test_retention_days_prune_old_rows(source_db, backup_dir, settings):
    call_command("dbbackup", "--source-db", source_db, stdout=StringIO())
    old = Backup.objects.get()
    Backup.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(days=10))
    settings.BACKUP_RETENTION_DAYS = 7
    call_command("dbbackup", "--source-db", source_db, stdout=StringIO())
    assert list(Backup.objects.values_list("pk", flat=True)) != [old.pk]
    assert not Backup.objects.filter(pk=old.pk).exists() and not Path(old.file).exists()
    assert Backup.objects.count() == 1


def test_keep_must_be_positive(source_db, backup_dir):
    with pytest.raises(CommandError, match="--keep must be at least 1"):
        call_command("dbbackup", "--source-db", source_db, "--keep", "0")
    assert Backup.objects.count() == 0


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_viewer_and_analyst_may_not_back_up(role, make_user, source_db, backup_dir):
    make_user(role, username="someone")
    with pytest.raises(CommandError, match="someone may not do this.*manage_backups"):
        call_command("dbbackup", "--source-db", source_db, "--user", "someone")
    assert Backup.objects.count() == 0 and list(backup_dir.iterdir()) == []


def test_operator_backs_up_but_only_admin_restores(make_user, source_db, databases, backup_dir):
    operator = make_user("operator", username="op")
    make_user("admin", username="boss")
    call_command("dbbackup", "--source-db", source_db, "--user", "op", "--verify", stdout=StringIO())
    row = Backup.objects.get()
    assert row.user == operator and row.verify_ok
    target = databases.reserve()
    with pytest.raises(CommandError, match="op may not do this.*restore_backup"):
        call_command("dbrestore", row.file, "--target-db", target, "--create", "--user", "op")
    assert not AuditEvent.objects.filter(action="backup.restore").exists()
    call_command("dbrestore", row.file, "--target-db", target, "--create", "--user", "boss", stdout=StringIO())
    assert table_counts(target) == (50, 700, 30)
    assert AuditEvent.objects.get(action="backup.restore").actor_name == "boss"
    with pytest.raises(CommandError, match="no active pgdeck user"):
        call_command("dbrestore", row.file, "--user", "ghost")


def test_dump_blocked_by_a_lock_fails_cleanly(source_db, backup_dir, settings):
    """A table held in ACCESS EXCLUSIVE (e.g. by a migration) makes the dump fail after the lock wait, not hang."""
    settings.BACKUP_LOCK_WAIT_TIMEOUT = 1
    with connect(source_db, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(CommandError, match="a table stayed locked by another session") as caught:
            call_command("dbbackup", "--source-db", source_db, stdout=StringIO())
        blocker.rollback()
    assert "\n" not in str(caught.value)
    row = Backup.objects.get()
    assert row.status == "failed" and not row.checksum
    assert list(backup_dir.iterdir()) == []
