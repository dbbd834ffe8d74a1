"""Run PgBouncer (transaction pooling) in front of the database, for `make test-pgbouncer` and local trials.

    python -m config.pgbouncer start   # prints the DATABASE_URL to use
    python -m config.pgbouncer stop

It proxies every database of the server that DATABASE_URL (or the embedded server) points at.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from config.env import BASE_DIR, env

STATE_DIR = BASE_DIR / ".pgbouncer"
PORT = env.int("PGBOUNCER_PORT", default=6432 + 1)


def _server():
    """The server DATABASE_URL (or the embedded server) names, read as the settings read it."""
    from config.settings.database import database_fields

    fields, _source = database_fields(allow_embedded=True)
    return fields["HOST"] or "127.0.0.1", fields["PORT"] or "5432", fields["USER"]


def _write_config(host, port, user):
    STATE_DIR.mkdir(exist_ok=True)
    # trust still needs each login role listed: the app's and the query editor's least-privilege roles.
    roles = [user, env("QUERY_ROLE", default="pgdeck_query"), env("QUERY_WRITE_ROLE", default="pgdeck_query_write")]
    (STATE_DIR / "userlist.txt").write_text("".join(f'"{role}" ""\n' for role in roles))
    config = f"""[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {PORT}
unix_socket_dir =
auth_type = trust
auth_file = {STATE_DIR / 'userlist.txt'}
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
server_idle_timeout = 5
# Transaction pooling hands a server connection to the next client after each transaction: DISCARD ALL
# (which also releases session advisory locks, prepared statements and SETs) must run every time.
server_reset_query = DISCARD ALL
server_reset_query_always = 1
ignore_startup_parameters = extra_float_digits,options,application_name
logfile = {STATE_DIR / 'pgbouncer.log'}
pidfile = {STATE_DIR / 'pgbouncer.pid'}
"""
    path = STATE_DIR / "pgbouncer.ini"
    path.write_text(config)
    return path


def start():
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        print("error: pgbouncer is not installed (apt-get install pgbouncer)", file=sys.stderr)
        return 1
    host, port, user = _server()
    config = _write_config(host, port, user)
    argv = [binary, "-d", str(config)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root; the embedded server's user can reach its socket
        argv[1:1] = ["-u", "embedded_postgres"]
        shutil.chown(STATE_DIR, "embedded_postgres")
        for item in STATE_DIR.iterdir():
            shutil.chown(item, "embedded_postgres")
    subprocess.run(argv, check=True)
    time.sleep(0.5)
    print(f"postgresql://{user}@127.0.0.1:{PORT}/pgdeck")
    return 0


def stop():
    pidfile = STATE_DIR / "pgbouncer.pid"
    if not pidfile.exists():
        return 0
    try:
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    except (ProcessLookupError, ValueError):
        pass
    pidfile.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    sys.exit({"start": start, "stop": stop}.get(action, lambda: print("usage: start|stop") or 2)())
