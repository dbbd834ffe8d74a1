"""The checks of a restore into a registered target (backups.md, "Restoring into a registered target"): the
dump's version against the destination server's, the target credential's right to make the restore role and a
scratch database there (and that it is no standby), and that the target is not the app's own live database under
another host name."""

from dbtools.backups.errors import BackupError
from dbtools.backups.tools import connect, database_exists
from dbtools.targeting import is_default
from targets import identity


def check_versions(dump_major, server_num, db_target):
    """A dump loads into its own major version or a newer one: pg_restore of a newer major sends settings an
    older server does not know (pg_restore 18 into PostgreSQL 15: transaction_timeout), so that is refused
    before anything is created, in one line."""
    if dump_major and dump_major > server_num // 10000:
        on = "" if is_default(db_target) else f" of target {db_target}"
        raise BackupError(f"this backup was written by pg_dump {dump_major}; the server{on} runs PostgreSQL "
                          f"{server_num // 10000}: a dump restores into the same or a newer major version only",
                          code="version_mismatch", status=409)


def can_make_databases(db_target):
    """The target's credential creates the restore role and the scratch database on its server: without
    CREATEROLE and CREATEDB, or on a standby (read-only, whatever the credential may do), the restore is refused
    now, in one line, not failed later in the job."""
    with connect("postgres", target=db_target) as conn:
        user, superuser, createrole, createdb, standby = conn.execute(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, pg_is_in_recovery() FROM pg_roles"
            " WHERE rolname = current_user"
        ).fetchone()
    if standby:
        raise BackupError(f"target {db_target} is a standby (in recovery), which is read-only: restore into its "
                          "primary", code="target_read_only", status=409)
    if not (superuser or (createrole and createdb)):
        raise BackupError(f"the credential of target {db_target} (user {user!r}) lacks CREATEROLE and CREATEDB: a "
                          "restore makes its role and a scratch database on that server", code="target_privileges",
                          status=403)


def not_the_live_database(db_target, dbname):
    """A registered target that is the app's own database under another host name would skip the live
    database's guards: refused, by what the servers say they are (targets/identity.py)."""
    with connect(dbname if database_exists(dbname, db_target) else "postgres", target=db_target) as conn:
        theirs = identity.read(conn)
    if theirs["database"] == dbname and identity.same(theirs, identity.of_default()):
        raise BackupError(f"database {dbname} of target {db_target} is the app's own live database: restore into "
                          "the target default instead (its safety checks apply)", code="target_duplicate",
                          status=409)
