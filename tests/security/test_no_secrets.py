"""Every path that handles a secret, then a scan of everything written: no key, password or password URL anywhere.

Secrets: API keys (created by the service, the command and the admin form; used; a wrong one that looks real;
revoked), an admin password (a failed and a good login), the database password (the test server trusts local
connections, so a PASSWORD in the settings is sent and ignored), the backup encryption key. Written: every log
record of every logger at DEBUG (SQL included), the commands' and subprocesses' stdout/stderr, and the database
(pg_dump of the whole test database: audit trail, query history, migration log, backups, sessions, django-axes'
attempts, the admin log), plus the backup folder's side files.
"""

import logging
import re
import secrets
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services import api_key_create, api_key_revoke
from dbtools.backups.tools import connect, create_database, drop_database
from dbtools.models import AuditEvent, Backup, MigrationLog, QueryHistory
from tests.accounts.test_no_plaintext_in_dump import KEY_RE, dump_database
from tests.conftest import PASSWORD

DB_PASSWORD = "Db-Pa55word-q7Zk2"
WRONG_PASSWORD = "Wrong-Adm1n-Pa55-x9"
ENCRYPTION_KEY = "Backup-Encrypt-K3y-v4Lm"
# postgresql://user:password@…, postgresql+psycopg://…, or a libpq conninfo's password=… (masked *** is fine)
PASSWORD_URL_RE = re.compile(
    r"postgres(?:ql)?(?:\+\w+)?://[^\s:/@]+:[^\s@/]+@|\bpassword\s*=\s*'?(?!\*{3})[^\s'*]+", re.I)

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump reads the database on its own connection


@pytest.fixture(scope="module", autouse=True)
def query_role(django_db_setup, django_db_blocker):
    """The query editor's login roles and their grants on the test database (as tests/query/conftest.py)."""
    with django_db_blocker.unblock():
        call_command("setup_query_role", stdout=StringIO())


@pytest.fixture
def db_password():
    """A PASSWORD in the database settings for the duration of the test (trust auth ignores it)."""
    previous = connection.settings_dict.get("PASSWORD", "")
    connection.settings_dict["PASSWORD"] = DB_PASSWORD
    yield DB_PASSWORD
    connection.settings_dict["PASSWORD"] = previous


@pytest.fixture
def every_log_record(caplog):
    """caplog at DEBUG on the root and every named logger, with every SQL statement logged too."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = False


@pytest.fixture
def source_db(db_password):
    name = f"pgdeck_secrets_{secrets.token_hex(4)}"
    create_database(name)
    with connect(name) as conn:
        conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 20) g")
    yield name
    drop_database(name)


def keys_through_every_path(make_user):
    root = make_user("admin", username="root")
    keys = [api_key_create(user=make_user("viewer", username="vi"), name="service", scopes=["read"])[1]]
    out = StringIO()
    call_command("create_api_key", "--user", "vi", "--name", "command", stdout=out, stderr=StringIO())
    keys.append(out.getvalue().strip())
    admin = Client()
    admin.force_login(root)
    form = {"user": root.pk, "name": "admin form", "scopes": ["read"], "expires_in": "30d"}
    keys += KEY_RE.findall(admin.post("/admin/accounts/apikey/add/", form, follow=True).content.decode())
    assert len(keys) == 3 and all(KEY_RE.fullmatch(key) for key in keys)
    for key in keys:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert api.get("/api/v1/me").status_code == 200
    # The right prefix, a wrong secret (pgd_<prefix>_<secret>: the secret itself may contain "_").
    wrong = f"{'_'.join(keys[0].split('_', 2)[:2])}_{secrets.token_urlsafe(32)}"
    stranger = f"pgd_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    for bad in (wrong, stranger):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {bad}")
        assert api.get("/api/v1/me").status_code == 401
    api_key_revoke(ApiKey.objects.get(name="service"), actor=root)
    call_command("revoke_api_key", ApiKey.objects.get(name="command").prefix, stdout=StringIO())
    return keys + [wrong, stranger]


def logins_with_passwords(make_user):
    make_user("admin", username="alice")
    client = Client(REMOTE_ADDR="10.20.30.40")
    failed = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": WRONG_PASSWORD})
    assert failed.status_code == 200 and "_auth_user_id" not in client.session
    good = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD})
    assert good.status_code == 302 and "_auth_user_id" in client.session
    return client


def backups_with_a_password(source_db, backup_dir, settings):
    settings.BACKUP_DIR, settings.BACKUP_ENCRYPTION_KEY = backup_dir, ENCRYPTION_KEY
    call_command("dbbackup", "--source-db", source_db, "--verify", stdout=StringIO())
    call_command("dbbackup", "--source-db", source_db, "--encrypt", "--format", "plain", stdout=StringIO())
    for backup in Backup.objects.all():
        call_command("dbbackup", "verify", backup.file, stdout=StringIO())
    target = f"{source_db}_copy"
    try:
        call_command("dbrestore", Backup.objects.first().file, "--target-db", target, "--create", stdout=StringIO())
    finally:
        drop_database(target)
    with pytest.raises(CommandError):  # refused before any row exists (issue 18): the error goes to the logs
        call_command("dbbackup", "--source-db", "pgdeck_no_such_database", stdout=StringIO())
    settings.BACKUP_PG_BIN_DIRS = [str(backup_dir)]  # no client tools there: a failing backup, error on its row
    with pytest.raises(CommandError):
        call_command("dbbackup", "--source-db", source_db, stdout=StringIO())
    settings.BACKUP_PG_BIN_DIRS = []
    assert Backup.objects.filter(status="failed").exists() and Backup.objects.filter(verify_ok=True).exists()


def queries_with_errors(client):
    for sql in ("SELEC 1", "SELECT 1/0", "SELECT * FROM no_such_table"):
        response = client.post("/api/v1/query", {"sql": sql}, content_type="application/json")
        assert response.status_code == 400, response.content
    assert QueryHistory.objects.filter(status="error").count() == 3


def database_rows():
    """The tables the issue names, row by row, as text (also covered by the dump; these name the culprit)."""
    for model, fields in ((AuditEvent, ("action", "target", "details", "user_agent")),
                          (QueryHistory, ("query", "error")), (MigrationLog, ("error", "user")),
                          (Backup, ("file", "error", "verify_result", "snapshot"))):
        for row in model.objects.values(*fields):
            yield f"{model.__name__} {row}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        yield from (f"session {data}" for (data,) in cursor.fetchall())


def leaks(text, secret_values):
    found = [value for value in secret_values if value in text]
    found += KEY_RE.findall(text) + PASSWORD_URL_RE.findall(text)
    return found


def test_nothing_secret_is_written_anywhere(make_user, db_password, every_log_record, capfd, source_db, tmp_path,
                                            settings):
    keys = keys_through_every_path(make_user)
    client = logins_with_passwords(make_user)
    backups_with_a_password(source_db, tmp_path, settings)
    query_key = api_key_create(user=make_user("admin", username="querier"), name="q", scopes=["query"])[1]
    queries_with_errors(Client(HTTP_AUTHORIZATION=f"Bearer {query_key}"))
    client.get("/admin/dbtools/backup/")
    secret_values = [DB_PASSWORD, WRONG_PASSWORD, PASSWORD, ENCRYPTION_KEY]
    keys.append(query_key)
    secret_values += keys + [key.split("_", 2)[2] for key in keys]
    connection.force_debug_cursor = False

    captured = capfd.readouterr()
    side_files = [path for path in tmp_path.rglob("*") if path.is_file() and path.suffix in (".json", ".sha256")]
    sources = {
        "log records": "\n".join(record.getMessage() for record in every_log_record.records),
        "stdout/stderr": captured.out + captured.err,
        "named tables": "\n".join(database_rows()),
        "database dump": dump_database(),
        "backup side files": "\n".join(Path(path).read_text() for path in side_files) + str(list(tmp_path.rglob("*"))),
    }
    assert sum(1 for record in every_log_record.records if record.name == "django.db.backends") > 50  # SQL logged
    # one row per client address and minute, counting both failed attempts
    assert AuditEvent.objects.get(action="api_key.auth_failed").details["count"] == 2
    for where, text in sources.items():
        assert not leaks(text, secret_values), f"secret in {where}: {leaks(text, secret_values)[:3]}"
