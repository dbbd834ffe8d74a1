"""Bad configuration: one clear line on stderr, a non-zero exit, no traceback, nothing changed."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.servers import ScratchCluster

ROOT = Path(__file__).resolve().parents[1]


def manage(*args, env=None, timeout=30):
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", **(env or {})}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip() and "Warning" not in line
             and "return Path" not in line]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def server_url(dbname):
    s = connection.settings_dict
    host = s["HOST"]
    if host.startswith("/"):
        return f"postgresql://{s['USER']}@/{dbname}?host={host}&port={s['PORT']}"
    return f"postgresql://{s['USER']}@{host}:{s['PORT']}/{dbname}"


@pytest.mark.parametrize("url, fragments", [
    ("sqlite:///db.sqlite3", ["PostgreSQL only", "sqlite"]),
    ("mysql://root@127.0.0.1/test", ["PostgreSQL only"]),
    ("postgresql://user@host:notaport/db", ["malformed"]),
    ("not a url", ["malformed"]),
    ("postgresql://127.0.0.1:5432", ["names no database"]),
])
def test_bad_database_url_is_one_line(url, fragments):
    assert_one_line_error(manage("check", env={"DATABASE_URL": url}), "DATABASE_URL", *fragments)
    assert not (ROOT / "db.sqlite3").exists()


def test_unreachable_host_says_host_port_and_reason_quickly():
    started = time.monotonic()
    result = manage("migrate", env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/pgdeck"})
    assert time.monotonic() - started < 15
    assert_one_line_error(result, "127.0.0.1:1", "refused")


def test_missing_database_is_named(db):
    assert_one_line_error(manage("migrate", env={"DATABASE_URL": server_url("no_such_db_pgdeck")}),
                          "no_such_db_pgdeck", "does not exist")


def test_production_settings_require_database_url():
    result = manage("check", env={"DJANGO_SETTINGS_MODULE": "config.settings.production", "DATABASE_URL": "",
                                  "DJANGO_SECRET_KEY": "x" * 50, "API_KEY_PEPPER": "p" * 32,
                                  "DJANGO_ALLOWED_HOSTS": "example.com"})
    assert_one_line_error(result, "DATABASE_URL is required")


def test_production_settings_require_a_secret_key():
    result = manage("check", env={"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_SECRET_KEY": "",
                                  "DATABASE_URL": "postgresql://u@127.0.0.1/x"})
    assert_one_line_error(result, "DJANGO_SECRET_KEY is required")


@pytest.fixture(scope="module")
def password_server():
    """A throw-away PostgreSQL cluster that demands a password (the shared servers trust everyone)."""
    cluster = ScratchCluster(auth="scram-sha-256", password="right-password")
    cluster.start()
    yield cluster
    cluster.stop("immediate")


def test_wrong_password_is_one_line(password_server):
    url = password_server.url(password="wrong-password")
    result = manage("migrate", env={"DATABASE_URL": url})
    assert_one_line_error(result, "password authentication failed")
    assert "wrong-password" not in result.stderr


def test_right_password_connects(password_server):
    url = password_server.url(password="right-password")
    result = manage("showmigrations", "blog", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
