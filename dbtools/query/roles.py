"""The least-privilege login roles user SQL runs as: created and kept in step by `manage.py setup_query_role`,
and checked before every run so a misconfigured (superuser) connection is refused, never used.

Read access is explicit SELECT grants on QUERY_READ_SCHEMAS, minus the app's private tables (sessions, users,
API keys, history, audit): pg_read_all_data would also expose django_session, whose keys are live logins.
"""

from django.apps import apps
from django.conf import settings
from psycopg import sql

# Roles whose membership turns SQL into shell access, server file access or power over other sessions.
DANGEROUS_ROLES = ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files",
                   "pg_signal_backend", "pg_write_all_data", "pg_checkpoint", "pg_signal_autovacuum_worker",
                   "pg_create_subscription", "pg_use_reserved_connections"]
# Apps whose tables hold secrets or other users' data; the query roles never get them.
PRIVATE_APPS = ["accounts", "auth", "sessions", "admin", "axes", "dbtools", "contenttypes"]
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"

SETUP_HELP = ("Run `manage.py setup_query_role` as a superuser (make run does it), or point QUERY_DATABASE_URL / "
              "QUERY_WRITE_DATABASE_URL at a role without superuser, CREATEROLE or pg_* server roles; "
              "see docs/query-editor.md.")


def role_name(mode):
    return settings.QUERY_WRITE_ROLE if mode == "write" else settings.QUERY_ROLE


def unsafe_reasons(conn):
    """Why this connection must not run user SQL (empty when it is a proper least-privilege login)."""
    rows = conn.execute(
        """SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolbypassrls
             FROM pg_roles r
            WHERE (r.rolsuper OR r.rolcreaterole OR r.rolbypassrls OR r.rolname = ANY(%s))
              AND (pg_has_role(session_user, r.oid, 'MEMBER') OR pg_has_role(current_user, r.oid, 'MEMBER'))""",
        [DANGEROUS_ROLES],
    ).fetchall()
    reasons = []
    for name, is_super, createrole, bypassrls in rows:
        attrs = [a for a, on in (("superuser", is_super), ("CREATEROLE", createrole), ("BYPASSRLS", bypassrls)) if on]
        reasons.append(f"{name} ({', '.join(attrs)})" if attrs else name)
    return reasons


def private_tables(cursor, schemas):
    """(schema, table) of the private apps' tables that exist in `schemas`."""
    names = {model._meta.db_table for app in PRIVATE_APPS if app in apps.app_configs
             for model in apps.get_app_config(app).get_models(include_auto_created=True)}
    names.add("django_session")
    rows = cursor.execute("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) "
                          "AND tablename = ANY(%s)", [schemas, sorted(names)]).fetchall()
    return rows


def _existing_schemas(cursor, schemas):
    rows = cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1", [schemas])
    return [row[0] for row in rows.fetchall()]


def _ensure_login_role(cursor, name, password):
    role = sql.Identifier(name)
    exists = cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
    verb = "ALTER" if exists else "CREATE"
    statement = sql.SQL(f"{verb} ROLE {{}} {ROLE_ATTRIBUTES}").format(role)
    if password:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    cursor.execute(statement)
    members = cursor.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", [name]).fetchall()
    for (group,) in members:  # no inherited power at all: a query role is a member of nothing
        cursor.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), role))
    return "updated" if exists else "created"


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
        lines.append(f"role {name}: {_ensure_login_role(cursor, name, password)}")
        cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database),
                                                                           sql.Identifier(name)))
        _grant_schemas(cursor, name, read_schemas, "SELECT", "SELECT")
    cursor.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(sql.Identifier(read_role)))
    _grant_schemas(cursor, write_role, write_schemas, "SELECT, INSERT, UPDATE, DELETE", "SELECT, USAGE")
    for name in (read_role, write_role):
        _revoke_private(cursor, name, sorted(set(read_schemas) | set(write_schemas)))
    lines.append(f"{read_role} reads {', '.join(read_schemas) or 'no schema'}; "
                 f"{write_role} also writes {', '.join(write_schemas) or 'no schema'}; private tables excluded")
    return lines
