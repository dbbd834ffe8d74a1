"""A fresh connection per run that logs in as the query role, checked safe, inside one transaction.

No pooling between users: SET, PREPARE, advisory locks and temp state die with the connection (reusing one
would need DISCARD ALL plus pg_advisory_unlock_all between users).
"""

import threading
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import connections

from config.env import parse_database_url
from config.errors import ConfigError
from config.routers import read_alias
from dbtools.query.errors import QueryError
from dbtools.query.roles import SETUP_HELP, role_name, unsafe_reasons

CONNECT_TIMEOUT = 5
WATCHDOG_GRACE = 1  # seconds after the run's timeout before the app cancels it itself


def run_alias(mode, alias="default"):
    """Read-only runs and exports use the replica when REPLICA_DATABASE_URL is set; writes never do."""
    return read_alias() if mode != "write" and alias == "default" else alias


def conninfo(mode, alias="default"):
    """Connection keywords for the query role of `mode` ('write' or anything read-only)."""
    url = settings.QUERY_WRITE_DATABASE_URL if mode == "write" else settings.QUERY_DATABASE_URL
    if url:
        variable = "QUERY_WRITE_DATABASE_URL" if mode == "write" else "QUERY_DATABASE_URL"
        try:
            fields = parse_database_url(url, variable=variable)
        except ConfigError as exc:
            raise QueryError(str(exc), code="query_role_unavailable", status=503)
        extra = fields.pop("EXTRA")
        params = {"dbname": fields["NAME"], "user": fields["USER"], "password": fields["PASSWORD"],
                  "host": fields["HOST"], "port": fields["PORT"], **extra}
    else:
        db = connections[alias].settings_dict
        params = {"dbname": db["NAME"], "user": role_name(mode), "password": settings.QUERY_ROLE_PASSWORD,
                  "host": db["HOST"], "port": db["PORT"]}
        for key in ("sslmode", "sslrootcert"):
            if db.get("OPTIONS", {}).get(key):
                params[key] = db["OPTIONS"][key]
    params = {key: value for key, value in params.items() if value not in ("", None)}
    params["application_name"] = "pgdeck-query"
    params["connect_timeout"] = CONNECT_TIMEOUT
    return params


def connect(mode, alias="default"):
    params = conninfo(mode, alias)
    try:
        return psycopg.connect(autocommit=True, **params)
    except psycopg.OperationalError as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        if "password" in text:
            text += (" — the server asks for a password: set QUERY_ROLE_PASSWORD and rerun "
                     "`manage.py setup_query_role`, or set QUERY_DATABASE_URL")
        raise QueryError(f"The query editor cannot log in as {params.get('user')!r}: {text}. {SETUP_HELP}",
                         code="query_role_unavailable", status=503)


def verify_safe(conn):
    reasons = unsafe_reasons(conn)
    if reasons:
        raise QueryError(
            f"Refusing to run user SQL: the editor's connection logs in as {conn.info.user!r}, which has or inherits "
            f"{'; '.join(reasons)}. {SETUP_HELP}", code="query_role_unsafe", status=503)


class Watchdog(threading.Timer):
    """Cancels the whole run after its deadline. statement_timeout alone is not enough: user SQL may
    `SET statement_timeout = 0` for its own later statements, and it bounds each statement, not the run."""

    def __init__(self, conn, seconds):
        super().__init__(seconds, self._stop_run)
        self.daemon, self.conn, self.seconds, self.fired = True, conn, seconds, False
        conn.pgdeck_watchdog = self

    def _stop_run(self):
        self.fired = True
        try:
            self.conn.cancel_safe()
        except psycopg.Error:
            pass

    def error(self):
        return QueryError(f"The run took longer than its {self.seconds - WATCHDOG_GRACE} s limit and was stopped.",
                          code="statement_timeout", status=400, sqlstate="57014", history_status="timeout")


def _set_local_timeouts(conn, statement_ms, lock_ms, idle_ms):
    conn.execute("SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true), "
                 "set_config('idle_in_transaction_session_timeout', %s, true)",
                 [f"{int(statement_ms)}ms", f"{int(lock_ms)}ms", f"{int(idle_ms)}ms"])


@contextmanager
def query_session(mode, *, timeout=None, alias="default"):
    """Yield a connection in `BEGIN READ ONLY` (or READ WRITE for mode 'write') with local timeouts.

    The transaction is rolled back and the connection closed on the way out unless the caller committed.
    """
    timeout = settings.QUERY_EDITOR_TIMEOUT if timeout is None else timeout
    conn = connect(mode, alias)
    watchdog = Watchdog(conn, timeout + WATCHDOG_GRACE)
    try:
        verify_safe(conn)
        conn.execute("BEGIN READ WRITE" if mode == "write" else "BEGIN READ ONLY")
        _set_local_timeouts(conn, timeout * 1000, min(timeout, 5) * 1000, max(timeout * 2, 60) * 1000)
        watchdog.start()
        yield conn
    except psycopg.Error as exc:
        if watchdog.fired:
            raise watchdog.error() from exc
        raise
    finally:
        watchdog.cancel()
        try:
            if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        except psycopg.Error:
            pass  # a broken connection rolls back on the server when it closes
        conn.close()


def server_pid(conn):
    """The server backend running this transaction. Not conn.info.backend_pid: behind PgBouncer that is the
    pooler's own number, while inside a transaction the pooler pins one real backend."""
    return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def cancel_backend(pid, alias="default"):
    """pg_cancel_backend(pid) on the server the run used, only when pid is a query-editor backend."""
    users = [settings.QUERY_ROLE, settings.QUERY_WRITE_ROLE]
    with connections[alias if alias in settings.DATABASES else "default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = %s "
            "AND (usename = ANY(%s) OR application_name = 'pgdeck-query')", [pid, users])
        row = cursor.fetchone()
    return bool(row and row[0])

