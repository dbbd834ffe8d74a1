"""The least-privilege login roles user SQL runs as: created and kept in step by `manage.py setup_query_role`,
and checked before every run so a misconfigured (superuser) connection is refused, never used.

Read access is explicit SELECT grants on QUERY_READ_SCHEMAS, minus the app's private tables (sessions, users,
API keys, history, audit): pg_read_all_data would also expose django_session, whose keys are live logins.
"""

import hashlib
import hmac

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import connections
from psycopg import sql

from config.dbcheck import direct_params
from dbtools.query.errors import QueryError

# Roles whose membership turns SQL into shell access, server file access or power over other sessions.
DANGEROUS_ROLES = ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files",
                   "pg_signal_backend", "pg_write_all_data", "pg_checkpoint", "pg_signal_autovacuum_worker",
                   "pg_create_subscription", "pg_use_reserved_connections"]
# Apps whose tables hold secrets or other users' data; the query roles never get them.
PRIVATE_APPS = ["accounts", "auth", "sessions", "admin", "axes", "dbtools", "contenttypes"]
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
# Tables outside any app's models that the query roles must never touch (migration state of both tools).
PRIVATE_TABLES = ["django_session", "django_migrations", "alembic_version"]

SETUP_HELP = ("Run `manage.py setup_query_role` as a superuser (make run does it), or point QUERY_DATABASE_URL / "
              "QUERY_WRITE_DATABASE_URL at a role without superuser, CREATEROLE or pg_* server roles; "
              "see docs/query-editor.md.")


def role_name(mode):
    return settings.QUERY_WRITE_ROLE if mode == "write" else settings.QUERY_ROLE


def user_role_name(mode, user_id):
    """The login role of one editor user: a member of the shared role, so it has its grants, while PostgreSQL
    keeps other users' sessions (their query text, pg_cancel_backend) out of its reach."""
    return f"{role_name(mode)}_u{int(user_id)}"


def user_role_patterns():
    """LIKE patterns matching every per-user role name (underscores escaped)."""
    return [f"{role_name(mode).replace('_', chr(92) + '_')}\\_u%" for mode in ("read", "write")]


def role_password(login):
    """The password a query role logs in with: QUERY_ROLE_PASSWORD for the shared roles, a keyed derivation of
    it for per-user roles (so knowing one user's role gives no other's); none when the server trusts us."""
    secret = settings.QUERY_ROLE_PASSWORD
    if not secret or login in (settings.QUERY_ROLE, settings.QUERY_WRITE_ROLE):
        return secret
    return hmac.new(secret.encode(), login.encode(), hashlib.sha256).hexdigest()


UNSAFE_SQL = """
SELECT ARRAY(SELECT r.rolname || CASE WHEN r.rolsuper OR r.rolcreaterole OR r.rolbypassrls THEN ' (' ||
                    concat_ws(', ', CASE WHEN r.rolsuper THEN 'superuser' END,
                              CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
                              CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END) || ')' ELSE '' END
               FROM pg_roles r
              WHERE (r.rolsuper OR r.rolcreaterole OR r.rolbypassrls OR r.rolname = ANY(%s))
                AND (pg_has_role(session_user, r.oid, 'MEMBER') OR pg_has_role(current_user, r.oid, 'MEMBER')))
"""


def role_report(conn):
    """One round trip before each run: (why the login is unsafe, what drifted) — see unsafe_reasons and
    drift_reasons. The drift columns come from DRIFT_SQL, joined into the same statement."""
    row = conn.execute(UNSAFE_SQL.rstrip() + ", drift.* FROM (" + DRIFT_SQL + ") drift",
                       [DANGEROUS_ROLES]).fetchone()
    conn.pgdeck_role_report = row
    return row


def unsafe_reasons(conn):
    """Why this connection must not run user SQL (empty when it is a proper least-privilege login)."""
    return list(role_report(conn)[0])


def private_tables(cursor, schemas):
    """(schema, table) of the private apps' tables that exist in `schemas`."""
    names = {model._meta.db_table for app in PRIVATE_APPS if app in apps.app_configs
             for model in apps.get_app_config(app).get_models(include_auto_created=True)}
    names.update(PRIVATE_TABLES)
    rows = cursor.execute("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) "
                          "AND tablename = ANY(%s)", [schemas, sorted(names)]).fetchall()
    return rows


def _existing_schemas(cursor, schemas):
    rows = cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1", [schemas])
    return [row[0] for row in rows.fetchall()]


def _reset_role(cursor, name, password, limit, groups=()):
    """Put one login role back into the state pgdeck owns: attributes, password, connection limit, no role-level
    settings, membership in exactly `groups`, and nothing owned in this database."""
    role = sql.Identifier(name)
    exists = cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
    _set_attributes(cursor, name, password, limit, exists=exists)
    cursor.execute(sql.SQL("ALTER ROLE {} RESET ALL").format(role))
    per_database = cursor.execute(
        "SELECT d.datname FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
        "WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = %s)", [name]).fetchall()
    for (database,) in per_database:
        cursor.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} RESET ALL").format(role, sql.Identifier(database)))
    members = cursor.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", [name]).fetchall()
    for (group,) in members:  # no inherited power beyond the shared grants
        if group not in groups:
            cursor.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), role))
    for group in groups:
        if (group,) not in members:
            cursor.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), role))
    cursor.execute(sql.SQL("DROP OWNED BY {}").format(role))  # also revokes its grants: re-granted after this
    return "updated" if exists else "created"


def _set_attributes(cursor, name, password, limit, *, exists):
    verb = "ALTER" if exists else "CREATE"
    statement = sql.SQL(f"{verb} ROLE {{}} {ROLE_ATTRIBUTES} CONNECTION LIMIT {int(limit)}").format(
        sql.Identifier(name))
    statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password)) if password else sql.SQL(" PASSWORD NULL")
    cursor.execute(statement)


def _grant_schemas(cursor, name, schemas, table_privs, sequence_privs):
    role = sql.Identifier(name)
    for schema in schemas:
        ident = sql.Identifier(schema)
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident, role))
        cursor.execute(sql.SQL(f"GRANT {table_privs} ON ALL TABLES IN SCHEMA {{}} TO {{}}").format(ident, role))
        cursor.execute(sql.SQL(f"GRANT {sequence_privs} ON ALL SEQUENCES IN SCHEMA {{}} TO {{}}").format(ident, role))
    # No ALTER DEFAULT PRIVILEGES on purpose: a table a later migration creates (maybe a private one) stays
    # invisible until this runs again (make run/serve do, after migrate).


def _revoke_private(cursor, name, schemas):
    for schema, table in private_tables(cursor, schemas):
        cursor.execute(sql.SQL("REVOKE ALL ON TABLE {}.{} FROM {}").format(
            sql.Identifier(schema), sql.Identifier(table), sql.Identifier(name)))


def setup_roles(cursor, database):
    """Create or update both query roles and their grants; returns lines saying what was done."""
    read_role, write_role = settings.QUERY_ROLE, settings.QUERY_WRITE_ROLE
    password = settings.QUERY_ROLE_PASSWORD
    read_schemas = _existing_schemas(cursor, settings.QUERY_READ_SCHEMAS)
    write_schemas = _existing_schemas(cursor, settings.QUERY_WRITE_SCHEMAS)
    lines = []
    for name in (read_role, write_role):
        lines.append(f"role {name}: {_reset_role(cursor, name, password, settings.QUERY_ROLE_CONNECTION_LIMIT)}")
        cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database),
                                                                           sql.Identifier(name)))
        _grant_schemas(cursor, name, read_schemas, "SELECT", "SELECT")
    _grant_schemas(cursor, write_role, write_schemas, "SELECT, INSERT, UPDATE, DELETE", "SELECT, USAGE")
    for name in (read_role, write_role):
        _revoke_private(cursor, name, sorted(set(read_schemas) | set(write_schemas)))
    users = _reset_user_roles(cursor)
    lines.append(f"{read_role} reads {', '.join(read_schemas) or 'no schema'}; "
                 f"{write_role} also writes {', '.join(write_schemas) or 'no schema'}; private tables excluded; "
                 f"{users} per-user role(s) reset")
    return lines


def _reset_user_roles(cursor):
    """Keep every per-user role in step: attributes, password and limit always (one statement each); a full
    reset (settings, memberships, owned objects) only for those that drifted, which stays fast with many users."""
    drifted = {line.split(":", 1)[0] for line in all_roles_drift(cursor)}
    rows = cursor.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE ANY(%s) ORDER BY 1",
                          [user_role_patterns()]).fetchall()
    for (name,) in rows:
        group = shared_role_of(name)
        if name in drifted:
            _reset_role(cursor, name, role_password(name), settings.QUERY_MAX_RUNS_PER_USER, groups=(group,))
        else:
            _set_attributes(cursor, name, role_password(name), settings.QUERY_MAX_RUNS_PER_USER, exists=True)
    return len(rows)


def ensure_user_role(mode, user_id):
    """Create the per-user login role on first use, on a connection of the app's own login but outside any
    request transaction (the run's new connection must see the role at once); needs CREATEROLE."""
    name, group = user_role_name(mode, user_id), role_name(mode)
    try:
        with psycopg.connect(**direct_params(connections["default"].settings_dict, connect_timeout=5)) as conn:
            cursor = conn.cursor()
            if not cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [group]).fetchone():
                raise QueryError(f"The query role {group!r} does not exist. {SETUP_HELP}",
                                 code="query_role_unavailable", status=503)
            _reset_role(cursor, name, role_password(name), settings.QUERY_MAX_RUNS_PER_USER, groups=(group,))
    except psycopg.Error as exc:
        if "already exists" in str(exc) or "concurrently" in str(exc):
            return  # another process made it at the same moment
        raise QueryError(f"Could not create the editor role {name!r}: {str(exc).strip().splitlines()[0]}. "
                         f"{SETUP_HELP}", code="query_role_unavailable", status=503)


DRIFT_SQL = """
WITH me AS (SELECT oid FROM pg_roles WHERE rolname = session_user),
groups AS (SELECT g.oid, g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
            WHERE m.member = (SELECT oid FROM me)),
mine AS (SELECT oid FROM me UNION ALL SELECT oid FROM groups)
SELECT ARRAY(SELECT rolname::text FROM groups ORDER BY 1),
       ARRAY(SELECT array_to_string(s.setconfig, ', ') FROM pg_db_role_setting s
              WHERE s.setrole IN (SELECT oid FROM mine)),
       (SELECT count(*) FROM pg_shdepend d WHERE d.refobjid IN (SELECT oid FROM mine) AND d.deptype = 'o'
           AND d.refclassid = 'pg_authid'::regclass),
       ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member IN (SELECT oid FROM groups))
"""


def drift_reasons(conn, expected_groups):
    """What about this login (and the shared role it belongs to) pgdeck did not write: role-level settings,
    memberships, owned objects. User SQL in write mode can `ALTER ROLE CURRENT_USER SET …` or create objects;
    a run never starts on a role in such a state."""
    report = getattr(conn, "pgdeck_role_report", None) or role_report(conn)
    groups, role_settings, owned, group_groups = report[1:]
    reasons = role_problems(groups, expected_groups, role_settings, owned)
    if group_groups:
        reasons.append(f"its shared role is a member of {', '.join(group_groups)}")
    return reasons


def role_problems(groups, expected_groups, role_settings, owned):
    """The drift of one role, as lines: memberships other than expected, role-level settings, owned objects."""
    problems = []
    if sorted(groups) != sorted(expected_groups):
        problems.append(f"member of {', '.join(groups) or 'no role'} (expected {', '.join(expected_groups) or 'none'})")
    if role_settings:
        problems.append(f"role settings {'; '.join(role_settings)}")
    if owned:
        problems.append(f"owns {owned} object(s)")
    return problems


def shared_role_of(name):
    """The shared grant role a per-user role belongs to."""
    return settings.QUERY_WRITE_ROLE if name.startswith(settings.QUERY_WRITE_ROLE + "_u") else settings.QUERY_ROLE


ALL_DRIFT_SQL = """
SELECT r.rolname,
       ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid),
       ARRAY(SELECT array_to_string(s.setconfig, ', ') FROM pg_db_role_setting s WHERE s.setrole = r.oid),
       (SELECT count(*) FROM pg_shdepend d WHERE d.refobjid = r.oid AND d.deptype = 'o'
           AND d.refclassid = 'pg_authid'::regclass)
  FROM pg_roles r WHERE r.rolname = ANY(%s) OR r.rolname LIKE ANY(%s) ORDER BY 1
"""


def all_roles_drift(cursor):
    """`setup_query_role --check`: every query role (shared and per-user) as pgdeck wrote it, read from the
    catalogs by the app's connection; returns one line per role that drifted."""
    shared = [settings.QUERY_ROLE, settings.QUERY_WRITE_ROLE]
    lines = []
    for name, groups, role_settings, owned in cursor.execute(ALL_DRIFT_SQL, [shared, user_role_patterns()]):
        expected = [] if name in shared else [shared_role_of(name)]
        problems = role_problems(groups, expected, role_settings, owned)
        if problems:
            lines.append(f"{name}: {', '.join(problems)}")
    return lines
