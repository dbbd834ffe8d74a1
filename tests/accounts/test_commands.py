"""create_api_key / revoke_api_key / list_api_keys: the key printed once, one-line errors, nothing lost."""

import logging
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.models import ApiKey
from dbtools.models import AuditEvent
from tests.servers import ROOT

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_key_once_and_it_works(make_user):
    make_user("analyst", username="ana")
    out, err = run("create_api_key", "--user", "ana", "--name", "nightly", "--expires-in", "30d",
                   "--scopes", "read,query")
    plaintext = out.strip()
    assert plaintext.startswith("pgd_") and "\n" not in plaintext
    assert plaintext not in err and "shown only now" in err
    api_key = ApiKey.objects.get()
    assert api_key.scopes == ["read", "query"] and api_key.expires_at is not None
    assert plaintext not in api_key.key_hash
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.get("/api/v1/me").json()["username"] == "ana"
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.target == f"pgd_{api_key.prefix}" and plaintext.split("_", 2)[2] not in str(event.details)


def test_default_scopes_are_everything_the_role_allows(make_user):
    make_user("viewer", username="vi")
    run("create_api_key", "--user", "vi", "--name", "k")
    assert ApiKey.objects.get().scopes == ["read", "monitor"]


@pytest.mark.parametrize("args,message", [
    (["--user", "ghost", "--name", "k"], "no user named 'ghost'"),
    (["--user", "vi", "--name", "k", "--scopes", "read,fly"], "unknown scope(s) fly"),
    (["--user", "vi", "--name", "k", "--scopes", "read,write"], "scope(s) write go beyond the viewer role"),
    (["--user", "vi", "--name", "k", "--scopes", ","], "choose at least one scope"),
    (["--user", "vi", "--name", "k", "--expires-in", "soon"], "invalid duration 'soon'"),
    (["--user", "vi", "--name", "k", "--expires-in=-5d"], "invalid duration"),
    (["--user", "vi", "--name", "k", "--expires-in", "99999999999999d"], "invalid duration"),
    (["--user", "vi", "--name", "   "], "a key needs a name"),
    (["--user", "vi", "--name", "x" * 101], "a key needs a name"),
])
def test_create_errors_are_one_line_and_create_nothing(make_user, args, message):
    make_user("viewer", username="vi")
    with pytest.raises(CommandError) as raised:
        run("create_api_key", *args)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert ApiKey.objects.count() == 0
    assert not AuditEvent.objects.filter(action="api_key.create").exists()


def test_revoke_by_any_prefix_spelling_and_list(make_user):
    make_user("operator", username="op")
    plaintext = run("create_api_key", "--user", "op", "--name", "deploy")[0].strip()
    api_key = ApiKey.objects.get()
    listing = run("list_api_keys")[0]
    assert f"pgd_{api_key.prefix}" in listing and "active" in listing and "deploy" in listing
    assert plaintext.split("_", 2)[2] not in listing and api_key.key_hash not in listing

    out = run("revoke_api_key", f"pgd_{api_key.prefix}_…")[0]
    assert "Revoked" in out
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert "already revoked" in run("revoke_api_key", api_key.prefix)[0]
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1
    assert "revoked" in run("list_api_keys", "--user", "op")[0]


def test_revoke_and_list_errors(make_user):
    make_user("operator", username="op")
    run("create_api_key", "--user", "op", "--name", "deploy")
    with pytest.raises(CommandError, match="no API key with prefix 'deadbeef0000'"):
        run("revoke_api_key", "deadbeef0000")
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        run("list_api_keys", "--user", "nobody")
    assert ApiKey.objects.get().revoked_at is None
    assert run("list_api_keys", "--user", "op")[0].count("pgd_") == 1


def test_info_log_lines_only_with_verbosity_2(make_user, caplog):
    make_user("analyst", username="ana")
    before = logging.getLogger().level
    with caplog.at_level(logging.NOTSET, logger="pgdeck"):  # capture whatever passes the command's levels
        run("create_api_key", "--user", "ana", "--name", "quiet")
        assert [r.getMessage() for r in caplog.records if r.levelno < logging.WARNING] == []
        call_command("create_api_key", "--user", "ana", "--name", "chatty", verbosity=2, stdout=StringIO(),
                     stderr=StringIO())
    prefix = ApiKey.objects.get(name="chatty").prefix
    assert f"audit api_key.create by manage.py create_api_key on pgd_{prefix}" in caplog.messages
    assert ApiKey.objects.count() == 2  # quiet, not skipped
    assert logging.getLogger().level == before  # the command's level does not leak


def _test_database_url():
    from django.db import connection

    db = connection.settings_dict
    if db["HOST"].startswith("/"):
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}&port={db['PORT']}"
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def test_list_api_keys_into_a_closed_pipe_ends_without_a_traceback(db):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    env["DATABASE_URL"] = _test_database_url()  # the migrated test database, not the (maybe empty) dev one
    process = subprocess.Popen([sys.executable, "manage.py", "list_api_keys"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # as `| head` does once it has its lines: every write now fails with EPIPE
    stderr = process.stderr.read()
    process.wait(60)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert process.returncode == 1
