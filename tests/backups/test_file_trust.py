"""A backup file is what its row says, or it is refused before anything reads it; plain SQL never runs psql
commands, and what it may do on the server is what the non-superuser restore role may do (issue 21 items 1-2,
issue 18's foreign dumps)."""

import hashlib
import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dbtools.backups.plainsql import scan
from dbtools.models import AuditEvent, Backup
from tests.backups.conftest import run_sql, table_counts

pytestmark = pytest.mark.django_db


def backup(source_db, *args):
    call_command("dbbackup", "--source-db", source_db, *args, stdout=StringIO())
    return Backup.objects.order_by("-pk").first()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def forge(path, text, **manifest):
    """Replace a backup file with `text`, and its .sha256 and manifest with ones that match it (all beside it)."""
    Path(path).write_text(text)
    Path(path + ".sha256").write_text(f"{sha256(path)}  {Path(path).name}\n")
    data = json.loads(Path(path + ".manifest.json").read_text()) if Path(path + ".manifest.json").exists() else {}
    data.update(checksum=sha256(path), **manifest)
    Path(path + ".manifest.json").write_text(json.dumps(data))


def test_swapped_encrypted_backup_is_refused_by_verify_and_restore(source_db, databases, backup_dir, settings,
                                                                   tmp_path):
    settings.BACKUP_ENCRYPTION_KEY = "k"
    row = backup(source_db, "--encrypt")
    marker = tmp_path / "pwned"
    forge(row.file, f"\\! touch {marker}\nSELECT 1;\n", format="plain", encrypted=False)
    with pytest.raises(CommandError, match="checksum mismatch.*refused before reading"):
        call_command("dbbackup", "verify", row.file, stdout=StringIO())
    row.refresh_from_db()
    assert row.verify_ok is False and "checksum mismatch" in row.verify_result
    target = databases.new()
    run_sql(target, "CREATE TABLE precious (x int); INSERT INTO precious VALUES (1)")
    with pytest.raises(CommandError, match="checksum mismatch"):
        call_command("dbrestore", row.file, "--target-db", target)
    fresh = databases.reserve()
    with pytest.raises(CommandError, match="checksum mismatch"):
        call_command("dbrestore", row.file, "--target-db", fresh, "--create")
    assert not marker.exists()
    assert run_sql(target, "SELECT x FROM precious") == [(1,)]
    assert run_sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = %s", [fresh]) == [(0,)]
    # Without its row, the forged (unsigned) manifest is not believed either.
    Backup.objects.all().delete()
    with pytest.raises(CommandError, match="no manifest signed by this pgdeck"):
        call_command("dbbackup", "verify", row.file, stdout=StringIO())
    with pytest.raises(CommandError, match="dbrestore --foreign"):
        call_command("dbrestore", row.file, "--target-db", target)
    assert not marker.exists()


def test_swapped_file_is_refused_for_download(client_for, source_db, backup_dir):
    row = backup(source_db, "--format", "plain")
    forge(row.file, "SELECT 'not the backup';\n")
    response = client_for("admin", username="boss").get(f"/admin/dbtools/backups/{row.pk}/download/")
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="backup.download").exists()


CRAFTED = """SET statement_timeout = 0;
CREATE TABLE x (a int);
{payload}
"""


@pytest.mark.parametrize("payload, message", [
    ("\\! touch {marker}", "line 3 is a psql meta-command"),
    ("SELECT 1; \\! touch {marker}", "backslash commands are restricted"),
    ("COPY x TO PROGRAM 'touch {marker}';",
     "(permission denied|must be superuser).* COPY to or from an external program"),
    ("COPY x FROM stdin;\n1\n\\.\n\\o |touch {marker}", "line 6 is a psql meta-command"),
    ("\\! touch {marker}\nCOPY x TO PROGRAM 'touch {marker}';", "line 3 is a psql meta-command"),
])
def test_crafted_plain_dump_cannot_run_code(payload, message, databases, backup_dir, tmp_path):
    marker = tmp_path / "marker"
    dump = backup_dir / "crafted.sql"
    dump.write_text(CRAFTED.format(payload=payload.format(marker=marker)))
    Path(str(dump) + ".sha256").write_text(f"{sha256(dump)}  crafted.sql\n")  # a sidecar proves nothing
    target = databases.new()
    run_sql(target, "CREATE TABLE precious (x int); INSERT INTO precious VALUES (7)")
    with pytest.raises(CommandError, match="dbrestore --foreign"):
        call_command("dbrestore", str(dump), "--target-db", target)
    with pytest.raises(CommandError, match=message) as caught:
        call_command("dbrestore", str(dump), "--target-db", target, "--foreign")
    assert "\n" not in str(caught.value)
    fresh = databases.reserve()
    with pytest.raises(CommandError, match=message):
        call_command("dbrestore", str(dump), "--target-db", fresh, "--create", "--foreign")
    assert not marker.exists()
    assert run_sql(target, "SELECT x FROM precious") == [(7,)]
    assert run_sql(target, "SELECT to_regclass('public.x')") == [(None,)]
    assert run_sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = %s", [fresh]) == [(0,)]


@pytest.mark.django_db(transaction=True)
def test_manage_py_dbrestore_of_a_crafted_dump_exits_non_zero(databases, backup_dir, tmp_path):
    import subprocess
    import sys

    from django.db import connection

    marker = tmp_path / "marker"
    dump = backup_dir / "crafted.sql"
    dump.write_text(CRAFTED.format(payload=f"\\! touch {marker}\nCOPY x TO PROGRAM 'touch {marker}2';"))
    target = databases.new()
    run_sql(target, "CREATE TABLE precious (x int); INSERT INTO precious VALUES (7)")
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "BACKUP_DIR": str(backup_dir),
           "DATABASE_URL": f"postgresql://{db['USER']}@localhost:{db['PORT']}/{db['NAME']}?host={db['HOST']}"}
    done = subprocess.run([sys.executable, "manage.py", "dbrestore", str(dump), "--target-db", target, "--foreign"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]  # (INFO log lines may come first)
    assert last.startswith("CommandError: restore into") and "line 3 is a psql meta-command (\\! touch" in last
    assert "Traceback" not in done.stderr
    assert not marker.exists() and not Path(f"{marker}2").exists()
    assert run_sql(target, "SELECT x FROM precious") == [(7,)]


def test_restores_and_verifies_run_as_a_role_without_power(source_db, databases, backup_dir):
    row = backup(source_db, "--verify")
    target = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    owner, is_super, create_role, create_db = run_sql(
        "postgres", "SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb FROM pg_database d "
                    "JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = %s", [target])[0]
    assert owner == "pgdeck_restore" and not (is_super or create_role or create_db)
    assert run_sql("postgres", "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                               "WHERE r.rolname = 'pgdeck_restore'") == [(0,)]
    assert run_sql(target, "SELECT tableowner FROM pg_tables WHERE tablename = 'articles'") == [("pgdeck_restore",)]
    # Another xdist worker may be mid-restore (its one-use password set): read under the role's advisory lock.
    from dbtools.backups.restore_role import LOCK_KEY
    from dbtools.backups.tools import connect

    with connect("postgres", autocommit=False) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        # A new statement, so a new snapshot: taken after the lock, it sees the other restore's password cleared.
        assert conn.execute("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'pgdeck_restore'"
                            ).fetchall() == [(True,)]
        conn.rollback()


def test_foreign_dump_restores_with_the_explicit_flag(source_db, databases, backup_dir):
    from dbtools.backups.tools import client_env, select_tools, server_version_num

    dump = backup_dir / "elsewhere.dump"
    tools = select_tools(server_version_num())
    import subprocess

    subprocess.run([tools.path("pg_dump"), "--format=custom", f"--file={dump}", f"--dbname={source_db}"],
                   env=client_env(source_db), check=True)
    target = databases.reserve()
    with pytest.raises(CommandError, match="no backups row and no manifest signed"):
        call_command("dbrestore", str(dump), "--target-db", target, "--create")
    call_command("dbrestore", str(dump), "--target-db", target, "--create", "--foreign", stdout=StringIO())
    assert table_counts(target) == (50, 700, 30)
    existing = databases.reserve()
    call_command("dbrestore", str(dump), "--target-db", existing, "--create", "--foreign", stdout=StringIO())
    run_sql(existing, "DELETE FROM articles WHERE id > 10")
    call_command("dbrestore", str(dump), "--target-db", existing, "--foreign", stdout=StringIO())
    assert table_counts(existing) == (50, 700, 30)
    event = AuditEvent.objects.filter(action="backup.restore").order_by("-pk").first()
    assert event.details["origin"] == "foreign" and event.details["rolled_back"]["public.articles"] == {
        "before": 10, "after": 700}


def test_scanner_keeps_copy_data_and_drops_only_its_own_lines():
    text = (b"\\restrict abc\nSET x = 1;\nCOPY t (a) FROM stdin;\n\\\\! not a command, data\n\\.\n"
            b"ALTER TABLE public.t OWNER TO postgres;\nSELECT 1;\n\\unrestrict abc\n")
    out = b"".join(scan([text[:10], text[10:]], key="k1"))
    assert out == (b"\\restrict k1\nSET x = 1;\nCOPY t (a) FROM stdin;\n\\\\! not a command, data\n\\.\n"
                   b"SELECT 1;\n")


def test_file_modes_ignore_the_umask(source_db, backup_dir, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "fresh" / "backups"
    old = os.umask(0)
    try:
        custom = backup(source_db)
        directory = backup(source_db, "--format", "directory")
    finally:
        os.umask(old)
    assert settings.BACKUP_DIR.stat().st_mode & 0o777 == 0o700
    for path in (custom.file, custom.file + ".sha256", custom.file + ".manifest.json"):
        assert Path(path).stat().st_mode & 0o777 == 0o600, path
    assert Path(directory.file).stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in Path(directory.file).iterdir()} == {0o600}


@pytest.mark.django_db(transaction=True)
def test_swapped_file_through_the_verify_button(make_user, source_db, backup_dir, settings, tmp_path):
    """The admin's and the API's Verify run the same background job: the swap is refused there too."""
    from django.test import Client

    from accounts.services import api_key_create
    from dbtools.backups import jobs

    settings.BACKUP_ENCRYPTION_KEY = "k"
    row = backup(source_db, "--encrypt")
    marker = tmp_path / "pwned"
    forge(row.file, f"\\! touch {marker}\n", format="plain", encrypted=False)
    _key, plaintext = api_key_create(user=make_user("operator", username="op"), name="t", scopes=["operate"])
    response = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}").post(f"/api/v1/backups/{row.pk}/verify")
    assert response.status_code == 202
    jobs.wait_all()
    row.refresh_from_db()
    assert row.verify_ok is False and "checksum mismatch" in row.verify_result
    assert row.encrypted and row.format == "custom" and not marker.exists()


@pytest.mark.parametrize("fmt", ["custom", "plain"])
def test_extensions_of_the_source_are_made_for_the_restore_role(fmt, source_db, databases, backup_dir):
    """pg_stat_statements is not a trusted extension: the restore role could not create it, pgdeck does first."""
    run_sql(source_db, "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION pg_trgm; "
                       "CREATE INDEX articles_title_trgm ON articles USING gin (title gin_trgm_ops)")
    row = backup(source_db, "--verify", "--format", fmt)
    assert row.verify_ok is True, row.verify_result
    assert row.snapshot["extensions"] == ["pg_stat_statements", "pg_trgm"]
    target = databases.reserve()
    call_command("dbrestore", row.file, "--target-db", target, "--create", stdout=StringIO())
    assert run_sql(target, "SELECT count(*) FROM pg_indexes WHERE indexname = 'articles_title_trgm'") == [(1,)]
    assert table_counts(target) == (50, 700, 30)
