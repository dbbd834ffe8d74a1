"""`setup_query_role --target NAME`: the query editor's least-privilege roles on a registered target, made with
the target's own credential over a connection from the seam (TLS options included), then checked."""

import psycopg

from dbtools.query.connection import verify_safe
from dbtools.query.errors import QueryError
from dbtools.query.roles import all_roles_drift, role_name, role_password, setup_roles
from targets import seam
from targets.errors import TargetError
from targets.probe import explain


def _connect(target, purpose, **overrides):
    try:
        params = seam.connect_kwargs(target, purpose, **overrides)
    except TargetError as exc:
        raise QueryError(exc.message, code=exc.code, status=exc.status) from None
    try:
        return psycopg.connect(autocommit=True, **params)
    except psycopg.Error as exc:
        raise QueryError(f"target {seam.spec(target).name!r}: {explain(exc, params)}",
                         code="target_unavailable", status=424) from None


def setup_on_target(name, *, check=False):
    """Lines saying what was done; QueryError (one line) when the target cannot be reached or used."""
    try:
        spec = seam.spec(name)
    except TargetError as exc:
        raise QueryError(exc.message, code=exc.code, status=exc.status) from None
    lines = []
    if not check:
        with _connect(spec, "app") as conn:
            row = conn.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()
            if not row or not row[0]:
                raise QueryError(f"target {name!r}: {spec.user!r} may not create roles (needs superuser or CREATEROLE)",
                                 code="query_role_unavailable", status=503)
            with conn.transaction(), conn.cursor() as cursor:
                lines += [f"target {name}: {line}" for line in setup_roles(cursor, spec.dbname)]
    for mode, purpose in (("read", "query-read"), ("write", "query-write")):
        login = role_name(mode)
        with _connect(spec, purpose, user=login, password=role_password(login) or None) as conn:
            verify_safe(conn, mode=mode)
        lines.append(f"target {name}: {mode} role {login!r} logs in and is least-privilege")
    with _connect(spec, "app") as conn, conn.cursor() as cursor:
        drift = all_roles_drift(cursor)
    if drift:
        raise QueryError(f"target {name!r}: query roles changed outside pgdeck ({'; '.join(drift)})",
                         code="query_role_unsafe", status=503)
    return lines
