"""Test a target's connection: server version, latency, TLS in use, privileges found, or one line why not."""

import time
from dataclasses import dataclass, field

import psycopg
from django.conf import settings

from config.dbcheck import first_line
from targets import identity, seam

PRIVILEGES = """
SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
       has_database_privilege(current_database(), 'CREATE'), has_database_privilege(current_database(), 'TEMP'),
       array(SELECT b.rolname FROM pg_roles b
             WHERE b.rolname IN ('pg_monitor', 'pg_read_all_stats', 'pg_signal_backend', 'pg_read_all_data',
                                 'pg_write_all_data', 'pg_read_server_files', 'pg_execute_server_program')
               AND pg_has_role(current_user, b.oid, 'MEMBER') ORDER BY b.rolname)
FROM pg_roles r WHERE r.rolname = current_user
"""
ATTRIBUTES = ("superuser", "createrole", "createdb", "replication", "bypassrls", "create on database",
              "temp on database")


@dataclass
class TargetTestResult:
    name: str
    ok: bool = False
    server_version: str = ""
    latency_ms: float | None = None
    tls_in_use: bool | None = None
    tls_version: str = ""
    user: str = ""
    privileges: list = field(default_factory=list)
    error: str = ""
    identity: dict = field(default_factory=dict)  # targets/identity.py: what the server says it is
    duplicate_of: list = field(default_factory=list)  # other targets that are the same database


def explain(exc, params):
    """One line for an operator: which host, and what went wrong in their words."""
    text = first_line(exc)
    where = f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"
    lowered = text.lower()
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return f"DNS failure: host {params.get('host')!r} does not resolve"
    if "connection refused" in lowered:
        return f"nothing accepts connections on {where} (connection refused)"
    if "timeout expired" in lowered or "timed out" in lowered:
        return f"no answer from {where} within {params.get('connect_timeout')} s"
    if "password authentication failed" in lowered:
        return f"wrong password for user {params.get('user')!r} on {where}"
    if "no password supplied" in lowered:
        return f"the server on {where} asks for a password and the target has none"
    if "server does not support ssl" in lowered:
        return f"the server on {where} does not offer TLS, but sslmode={params.get('sslmode')} requires it"
    if "certificate verify failed" in lowered:
        return f"TLS certificate of {where} not trusted (sslmode={params.get('sslmode')}): {text}"
    if "does not exist" in lowered:
        return f"{text} on {where}"
    if "no pg_hba.conf entry" in lowered:
        return f"the server on {where} refuses this client (pg_hba.conf): {text}"
    return f"{where}: {text}"


def probe(target):
    """Connect once for monitoring and read what the connection has; never raises for a connection fault."""
    spec = seam.spec(target)
    params = seam.connect_kwargs(spec, "monitoring", connect_timeout=settings.TARGETS_CONNECT_TIMEOUT)
    result = TargetTestResult(name=spec.name, user=params.get("user", ""))
    started = time.monotonic()
    try:
        with psycopg.connect(autocommit=True, **params) as conn:
            conn.execute("SELECT 1")
            result.latency_ms = round((time.monotonic() - started) * 1000, 1)
            result.server_version = conn.execute("SHOW server_version").fetchone()[0]
            ssl = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
            result.tls_in_use, result.tls_version = bool(ssl and ssl[0]), (ssl[1] or "") if ssl else ""
            row = conn.execute(PRIVILEGES).fetchone()
            result.privileges = [name for name, held in zip(ATTRIBUTES, row[:7], strict=True) if held] + list(row[7])
            result.identity = identity.read(conn)
    except psycopg.Error as exc:
        result.error = explain(exc, params)
        return result
    result.ok = True
    return result
