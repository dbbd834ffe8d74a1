"""Writes of the bridge: upgrade, downgrade, stamp, sync (adopt is in adopt.py). Each one is logged in
migrations_log; upgrades and downgrades run Django's own `migrate`, whose hooks move alembic_version."""

import logging
from contextlib import contextmanager
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, transaction
from django.db.utils import OperationalError

from dbtools.migrations_bridge import lock, log
from dbtools.migrations_bridge.guard import LockBusy, MigrationRefused, take_lock
from dbtools.migrations_bridge.hooks import applied_mirrored, bridge_context, expected_revision
from dbtools.migrations_bridge.revisions import BASE, HEAD, UnknownRevision, position, resolve, revision_chain
from dbtools.migrations_bridge.selectors import version_drift
from dbtools.migrations_bridge.version_table import MultipleVersionRows, guarded_write, version_rows

logger = logging.getLogger("pgdeck.migrations")


class BridgeError(Exception):
    """A refusal or failure with a one-line message; `code` is the API error code."""

    def __init__(self, message, code="invalid"):
        super().__init__(message)
        self.code = code


def _resolve(revision, chain):
    try:
        return resolve(revision, chain)
    except UnknownRevision as exc:
        raise BridgeError(str(exc), "unknown_revision")


def _current_in_step(connection, chain, *, alembic_ahead_ok=False):
    """The current revision, refusing when alembic_version and Django disagree (moving would make it worse).
    With `alembic_ahead_ok` (upgrades), Alembic being further along the chain than Django is fine: the guard
    recognises those migrations as applied instead of running them again."""
    versions = version_rows(connection)
    if len(versions) > 1:
        raise BridgeError(str(MultipleVersionRows(versions)), "multiple_versions")
    applied = applied_mirrored(connection)
    drift = version_drift(versions, applied, chain)
    current = versions[0] if versions else None
    expected = expected_revision(applied, chain)
    ahead = (alembic_ahead_ok and current and position(current, chain) is not None
             and position(current, chain) > position(expected, chain))
    if drift and not (ahead and len(drift) == 1):
        raise BridgeError(drift[0] + " (see `manage.py alembic check`)", "drift")
    return expected if ahead else current


@contextmanager
def migration_lock(connection):
    """The migration lock (lock.py) for a whole multi-migration move, at session level: each migration's own
    transaction takes it again (re-entrant in one session), so nothing of another tool runs in between."""
    seconds = lock.timeout_seconds(getattr(settings, "MIGRATION_LOCK_TIMEOUT", None))
    try:
        # A savepoint when the caller is in a transaction: a timed-out wait must not abort the caller's work.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for statement in lock.lock_statements(seconds, session=True):
                cursor.execute(statement)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", "") == lock.LOCK_NOT_AVAILABLE:
            raise BridgeError(lock.busy_message(seconds), "busy") from None
        raise
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(lock.SESSION_UNLOCK_SQL)


def _run_migrate(targets, *, using, action, user, stdout):
    out = stdout or StringIO()
    with bridge_context(action, user):
        try:
            for args in targets:
                call_command("migrate", *args, database=using, interactive=False, verbosity=1, stdout=out)
        except MigrationRefused as exc:  # before any SQL of that migration ran; logged by the hook
            raise BridgeError(str(exc), "busy" if isinstance(exc, LockBusy) else "version_conflict")
        except Exception as exc:  # the hook has logged the failed migration; the DB rolled back
            line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            raise BridgeError(f"{action} failed, nothing of that migration was kept: {line}", "migration_failed")
    return expected_revision(applied_mirrored(connections[using]), revision_chain())


def reapply_query_grants(using, stdout=None):
    """Tables a downgrade dropped come back without the query roles' grants: run setup_query_role's grant code
    again (its own command, which knows when roles are managed elsewhere). A failure is reported, not raised:
    the migration itself has committed."""
    out = StringIO()
    try:
        call_command("setup_query_role", database=using, stdout=out)
    except CommandError as exc:
        message = f"the query roles' grants were not re-applied ({exc}); run `manage.py setup_query_role`"
        logger.warning(message)
        if stdout:
            stdout.write(message)


def migrations_upgrade(revision=HEAD, *, using="default", user="", stdout=None, actor=None):
    """Run the mirrored Django migrations up to `revision` (head by default); returns the new revision."""
    from dbtools.migrations_bridge.authorization import migrations_authorize

    chain = revision_chain()
    target = _resolve(revision, chain)
    migrations_authorize("upgrade", revision, using=using, actor=actor)
    connection = connections[using]
    with migration_lock(connection):
        current = _current_in_step(connection, chain, alembic_ahead_ok=True)
        new = _upgrade_locked(revision, target, current, chain, using=using, user=user, stdout=stdout)
    if new != current:
        reapply_query_grants(using, stdout)
    return new


def _upgrade_locked(revision, target, current, chain, *, using, user, stdout):
    if target is None or position(target.revision, chain) < position(current, chain):
        raise BridgeError(f"'{revision}' is behind the current revision {current or BASE}: use downgrade",
                          "wrong_direction")
    if revision == HEAD:
        # Every app: a downgrade also unapplies migrations of other apps that depend on mirrored ones (none
        # do today, but a project's own apps may), and head brings them back too.
        targets = [()]
    else:
        targets = [target.key]
    return _run_migrate(targets, using=using, action="upgrade", user=user, stdout=stdout)


def downgrade_targets(target_index, chain, applied):
    """`migrate APP NAME|zero` calls taking each mirrored app back to chain[:target_index + 1], latest app first."""
    calls = []
    for app in dict.fromkeys(p.app_label for p in reversed(chain)):
        if not any(p.app_label == app and p.key in applied for p in chain[target_index + 1:]):
            continue
        kept = [p for p in chain[:target_index + 1] if p.app_label == app]
        calls.append((app, kept[-1].name if kept else "zero"))
    return calls


def migrations_downgrade(revision, *, using="default", user="", stdout=None, actor=None, confirmation=None):
    """Unapply the mirrored Django migrations after `revision` (or all, for base); returns the new revision.
    Refused by migrations_authorize (admin, backup, confirmation) when it would drop rows."""
    from dbtools.migrations_bridge.authorization import migrations_authorize

    chain = revision_chain()
    target = _resolve(revision, chain)
    connection = connections[using]
    with migration_lock(connection):
        current = _current_in_step(connection, chain)
        target_index = -1 if target is None else position(target.revision, chain)
        if target_index > position(current, chain):
            raise BridgeError(f"'{revision}' is ahead of the current revision {current or BASE}: use upgrade",
                              "wrong_direction")
        migrations_authorize("downgrade", revision, using=using, actor=actor, confirmation=confirmation)
        calls = downgrade_targets(target_index, chain, applied_mirrored(connection))
        return _run_migrate(calls, using=using, action="downgrade", user=user, stdout=stdout)


def migrations_stamp(revision, *, using="default", user="", purge=False):
    """Set alembic_version to `revision` without running anything (like `alembic stamp`); returns it."""
    chain = revision_chain()
    target = _resolve(revision, chain)
    connection = connections[using]
    new = target.revision if target else None
    with transaction.atomic(using=using):
        take_lock(connection)
        versions = version_rows(connection)
        if len(versions) > 1 and not purge:
            raise BridgeError(str(MultipleVersionRows(versions)), "multiple_versions")
        guarded_write(connection, versions, new)
    log.write_rows([log.LogRow(action="stamp", status="success", revision=new or "",
                               from_revision=",".join(versions), user=user)], using)
    return new


def migrations_sync(*, using="default", user=""):
    """Write alembic_version from Django's applied migrations; returns the revision written."""
    connection = connections[using]
    with transaction.atomic(using=using):
        take_lock(connection)
        versions = version_rows(connection)
        new = expected_revision(applied_mirrored(connection), revision_chain())
        guarded_write(connection, versions, new)
    log.write_rows([log.LogRow(action="sync", status="success", revision=new or "",
                               from_revision=",".join(versions), user=user)], using)
    return new


def migrations_move(action, revision, *, using="default", request=None, user="", confirmation=None):
    """upgrade/downgrade for the admin and the API, audited as migration.<action> whether it worked or not;
    the request's user is the actor migrations_authorize judges."""
    from core.audit import audit_record

    actor = getattr(request, "user", None)
    versions = version_rows(connections[using])
    before = ",".join(versions) or BASE
    try:
        if action == "upgrade":
            new = migrations_upgrade(revision, using=using, user=user, actor=actor)
        else:
            new = migrations_downgrade(revision, using=using, user=user, actor=actor, confirmation=confirmation)
    except BridgeError as exc:
        audit_record(f"migration.{action}", request=request, target=revision, from_revision=before,
                     outcome="failed", error=str(exc))
        raise
    audit_record(f"migration.{action}", request=request, target=revision, from_revision=before,
                 to_revision=new or BASE, outcome="success")
    return new
