"""The role every restore and verify runs as: `pgdeck_restore` (BACKUP_RESTORE_ROLE), never the app's own.

A backup file is text or TOC entries that a restore executes; a swapped or foreign file could say
`COPY … TO PROGRAM` or define functions that run as whoever reads them. So the tool runs as a login role that is
no superuser, holds no CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS and is a member of nothing (so none of
pg_execute_server_program, pg_read/write_server_files): PostgreSQL itself refuses what it must not do.

The role is created and reset here, idempotently, on every use (the code owns it: no setup step to forget). Its
password is random, set for one use under an advisory lock and cleared afterwards: no secret to configure or leak.
"""

import secrets
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.conf import settings
from psycopg import sql

from config.dbcheck import first_line
from dbtools.backups.errors import BackupError
from dbtools.backups.tools import connect, connection_fields

# INHERIT: a member of no role, so it inherits nothing but its databases' implicit pg_database_owner (which
# PostgreSQL 15 withholds from a NOINHERIT owner: no CREATE on `public`).
ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
LOCK_KEY = 0x70676472  # one restore-role session at a time in the cluster ("pgdr")


@dataclass(frozen=True)
class Login:
    user: str
    password: str
    target: str = "default"  # the registered target whose server the role lives on

    def connect(self, dbname):
        """A psycopg connection to `dbname` as the restore role (reading what a restore created runs as it too)."""
        fields = connection_fields(dbname, self.target)
        params = {k: v for k, v in fields.items() if v and k not in ("user", "password")}
        try:
            return psycopg.connect(**params, user=self.user, password=self.password, autocommit=True,
                                   connect_timeout=10, application_name="pgdeck-restore")
        except psycopg.Error as exc:
            raise BackupError(f"cannot connect to {dbname} as {self.user}: {first_line(exc)}") from None


def role_name():
    return getattr(settings, "BACKUP_RESTORE_ROLE", "") or "pgdeck_restore"


def _ensure(conn, name, password):
    role = sql.Identifier(name)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(sql.SQL(f"{verb} ROLE {{}} {ATTRIBUTES} PASSWORD {{}}").format(role, sql.Literal(password)))
    groups = conn.execute("SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                          "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", [name]).fetchall()
    for (group,) in groups:  # a member of nothing: no inherited or SET ROLE-able power
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), role))
    if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        # The other direction, harmless: the app's user may act as this role, to create and drop its databases
        # (CREATE DATABASE … OWNER needs it on PostgreSQL 16+, where CREATEROLE alone grants no SET).
        option = " WITH SET TRUE, INHERIT FALSE" if conn.info.server_version >= 160000 else ""
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER" + option).format(role))


@contextmanager
def restore_login(target="default"):
    """Yield a Login for the restore role, valid until the block ends (one at a time: the password is per use).

    The lock is a transaction-level advisory lock held in an open transaction of its own connection: that pins
    one server connection even behind PgBouncer's transaction pooling, where a session lock could be taken on
    one server connection and "released" on another. The password is set on a second, autocommit connection so
    the tool can log in with it at once."""
    name = role_name()
    with connect("postgres", autocommit=False, target=target) as lock, connect("postgres", target=target) as conn:
        lock.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        password = secrets.token_urlsafe(32)
        try:
            _ensure(conn, name, password)
        except psycopg.Error as exc:
            who = "the app's database user" if target == "default" else f"the credential of target {target}"
            raise BackupError(f"cannot set up the restore role {name}: {first_line(exc)} ({who} needs CREATEROLE; "
                              "see docs/backups.md)", code="target_privileges" if target != "default"
                              else "backup_error", status=403 if target != "default" else 400) from None
        try:
            yield Login(name, password, target)
        finally:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD NULL").format(sql.Identifier(name)))
            lock.rollback()  # releases the lock


def create_owned_database(name, login, extensions=()):
    """CREATE DATABASE owned by the restore role; `extensions` (ones the live database already has) are created
    first by the app, since the restore role may not create untrusted ones and a dump expects them."""
    with connect("postgres", target=login.target) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                sql.Identifier(name), sql.Identifier(login.user)))
        except psycopg.Error as exc:
            raise BackupError(f"cannot create database {name}: {first_line(exc)}") from None
    with connect(name, target=login.target) as conn:
        # PostgreSQL 15+ gives `public` to the database owner; a cluster initialised earlier may not.
        owner = conn.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'").fetchone()
        if owner and owner[0] not in ("pg_database_owner", login.user):
            conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(login.user)))
        for extension in extensions:
            try:
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension)))
            except psycopg.Error:  # noqa: S112 - the restore then names what is missing
                continue


def live_extensions(dbname, target="default"):
    from dbtools.backups.catalog import extensions

    with connect(dbname, target=target) as conn:
        return extensions(conn)
