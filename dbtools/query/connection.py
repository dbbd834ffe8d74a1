"""A fresh connection per run that logs in as a query role, checked safe, inside one transaction.

No pooling between users: SET, PREPARE, advisory locks and temp state die with the connection (reusing one
would need DISCARD ALL plus pg_advisory_unlock_all between users). Each editor user logs in as a role of their own
(`pgdeck_query_u<id>`, a member of the shared grant role) so PostgreSQL itself keeps users from seeing or
cancelling each other's runs, and the role's CONNECTION LIMIT is the per-user limit on concurrent runs.
"""

import re
import secrets

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

from config.dbcheck import first_line
from config.routers import read_alias
from dbtools.query import roles
from dbtools.query.boundary import RUN_TOKEN_SETTING
from dbtools.query.deadline import Watchdog
from dbtools.query.errors import QueryError
from dbtools.query.roles import SETUP_HELP, role_name, unsafe_reasons
from targets import seam
from targets.errors import TargetError

WATCHDOG_GRACE = 1  # seconds after the run's timeout before the app cancels it itself
TOO_MANY_CONNECTIONS = "53300"
PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")  # needs no quotes in search_path


def run_alias(mode, alias="default"):
    """Read-only runs and exports use the replica when REPLICA_DATABASE_URL is set; writes never do."""
    return read_alias() if mode != "write" and alias == "default" else alias


def per_user(mode, user):
    """Whether this run logs in as the user's own role (pgdeck manages the roles and the run has a user)."""
    external = settings.QUERY_WRITE_DATABASE_URL if mode == "write" else settings.QUERY_DATABASE_URL
    return bool(settings.QUERY_PER_USER_ROLES and not external and getattr(user, "pk", None))


def conninfo(mode, alias="default", user=None, target="default"):
    """Connection keywords for the query role of `mode` ('write' or anything read-only), per user if any."""
    purpose = "query-write" if mode == "write" else "query-read"
    login = {}
    if per_user(mode, user):
        name = roles.user_role_name(mode, user.pk)
        login = {"user": name, "password": roles.role_password(name)}
    try:
        return seam.connect_kwargs(target, purpose, alias=alias, **login)
    except TargetError as exc:
        raise QueryError(exc.message, code="query_role_unavailable", status=503) from None


def _connect_once(params):
    return psycopg.connect(autocommit=True, **params)


def connect(mode, alias="default", user=None):
    params = conninfo(mode, alias, user)
    try:
        try:
            return _connect_once(params)
        except psycopg.OperationalError as exc:
            if not per_user(mode, user) or "does not exist" not in str(exc):
                raise
            roles.ensure_user_role(mode, user.pk)  # first run of this user: make their role, then log in
            return _connect_once(params)
    except psycopg.OperationalError as exc:
        text = first_line(exc)
        if getattr(exc, "sqlstate", None) == TOO_MANY_CONNECTIONS or "too many connections for role" in text:
            raise QueryError(f"Too many runs at once for {params.get('user')!r} (limit "
                             f"{settings.QUERY_MAX_RUNS_PER_USER} per user): wait for one to finish or cancel it.",
                             code="too_many_runs", status=429)
        if "password" in text:
            text += (" — the server asks for a password: set QUERY_ROLE_PASSWORD and rerun "
                     "`manage.py setup_query_role`, or set QUERY_DATABASE_URL")
        raise QueryError(f"The query editor cannot log in as {params.get('user')!r}: {text}. {SETUP_HELP}",
                         code="query_role_unavailable", status=503)


def verify_safe(conn, user=None, mode="read"):
    reasons = unsafe_reasons(conn)
    if reasons:
        raise QueryError(
            f"Refusing to run user SQL: the editor's connection logs in as {conn.info.user!r}, which has or inherits "
            f"{'; '.join(reasons)}. {SETUP_HELP}", code="query_role_unsafe", status=503)
    if not (settings.QUERY_WRITE_DATABASE_URL if mode == "write" else settings.QUERY_DATABASE_URL):
        drift = roles.drift_reasons(conn, expected_groups=[role_name(mode)] if per_user(mode, user) else [])
        if drift:
            raise QueryError(
                f"Refusing to run user SQL: the role {conn.info.user!r} was changed outside pgdeck "
                f"({'; '.join(drift)}). Run `manage.py setup_query_role` to reset it.",
                code="query_role_unsafe", status=503)


def session_settings(conn, statement_ms, lock_ms, idle_ms):
    """The run's own parameters, local to its transaction: whatever the role's settings say (ALTER ROLE … SET
    is refused by the pre-run check anyway), these win for this transaction."""
    schemas = ", ".join(name if PLAIN_NAME.fullmatch(name) else sql.Identifier(name).as_string(conn)
                        for name in settings.QUERY_READ_SCHEMAS)
    conn.pgdeck_run_token = secrets.token_hex(16)
    # pg_backend_pid() rides along: the server backend of this transaction (see server_pid)
    conn.pgdeck_pid = conn.execute(
        "SELECT pg_backend_pid(), set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true), "
        "set_config('idle_in_transaction_session_timeout', %s, true), set_config('search_path', %s, true), "
        "set_config('standard_conforming_strings', 'on', true), set_config('row_security', 'on', true), "
        "set_config(%s, %s, true)",
        [f"{int(statement_ms)}ms", f"{int(lock_ms)}ms", f"{int(idle_ms)}ms", schemas, RUN_TOKEN_SETTING,
         conn.pgdeck_run_token]).fetchone()[0]


class QuerySession:
    """Context manager yielding a connection in `BEGIN READ ONLY` (or READ WRITE for mode 'write').

    The transaction is rolled back and the connection closed on the way out unless the caller committed."""

    def __init__(self, mode, *, timeout=None, alias="default", user=None):
        self.mode, self.alias, self.user = mode, alias, user
        self.timeout = settings.QUERY_EDITOR_TIMEOUT if timeout is None else timeout

    def __enter__(self):
        self.conn = conn = connect(self.mode, self.alias, self.user)
        try:
            verify_safe(conn, self.user, self.mode)
            conn.execute("BEGIN READ WRITE" if self.mode == "write" else "BEGIN READ ONLY")
            timeout = self.timeout
            session_settings(conn, timeout * 1000, min(timeout, 5) * 1000, max(timeout * 2, 60) * 1000)
        except BaseException:
            conn.close()
            raise
        conn.pgdeck_mode = self.mode
        self.watchdog = Watchdog(conn, self.timeout, grace=WATCHDOG_GRACE, alias=self.alias)
        self.watchdog.start()
        return conn

    def __exit__(self, exc_type, exc, tb):
        self.watchdog.stop()
        conn = self.conn
        try:
            if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        except psycopg.Error:
            pass  # a broken connection rolls back on the server when it closes
        conn.close()
        if isinstance(exc, psycopg.Error) and self.watchdog.fired:
            raise self.watchdog.error() from exc
        return False


def query_session(mode, *, timeout=None, alias="default", user=None):
    return QuerySession(mode, timeout=timeout, alias=alias, user=user)


def server_pid(conn):
    """The server backend running this transaction. Not conn.info.backend_pid: behind PgBouncer that is the
    pooler's own number, while inside a transaction the pooler pins one real backend."""
    return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def cancel_backend(pid, alias="default"):
    """pg_cancel_backend(pid) on the server the run used, only when pid is a query-editor backend."""
    with connections[alias if alias in settings.DATABASES else "default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = %s AND datname = current_database() "
            "AND (usename = ANY(%s) OR usename LIKE ANY(%s) OR application_name = 'pgdeck-query')",
            [pid, [settings.QUERY_ROLE, settings.QUERY_WRITE_ROLE], roles.user_role_patterns()])
        row = cursor.fetchone()
    return bool(row and row[0])
