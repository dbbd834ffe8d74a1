"""Writes of the bridge: upgrade, downgrade, stamp, sync (adopt is in adopt.py). Each one is logged in
migrations_log; upgrades and downgrades run Django's own `migrate`, whose hooks move alembic_version."""

from contextlib import contextmanager
from io import StringIO

from django.core.management import call_command
from django.db import connections, transaction

from dbtools.migrations_bridge import log
from dbtools.migrations_bridge.hooks import applied_mirrored, bridge_context, expected_revision
from dbtools.migrations_bridge.revisions import BASE, HEAD, UnknownRevision, position, resolve, revision_chain
from dbtools.migrations_bridge.selectors import version_drift
from dbtools.migrations_bridge.version_table import MultipleVersionRows, version_rows, write_version


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


def _current_in_step(connection, chain):
    """The current revision, refusing when alembic_version and Django disagree (moving would make it worse)."""
    versions = version_rows(connection)
    if len(versions) > 1:
        raise BridgeError(str(MultipleVersionRows(versions)), "multiple_versions")
    drift = version_drift(versions, applied_mirrored(connection), chain)
    if drift:
        raise BridgeError(drift[0] + " (see `manage.py alembic check`)", "drift")
    return versions[0] if versions else None


# One advisory lock key for every move of the bridge ("pgdeck-migrations" as a bigint): two moves never overlap.
MIGRATION_LOCK_KEY = 0x7067646563_6b6d


@contextmanager
def migration_lock(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise BridgeError("another migration is running on this database; try again when it has finished",
                              "busy")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])


def _run_migrate(targets, *, using, action, user, stdout):
    out = stdout or StringIO()
    with migration_lock(connections[using]), bridge_context(action, user):
        try:
            for args in targets:
                call_command("migrate", *args, database=using, interactive=False, verbosity=1, stdout=out)
        except Exception as exc:  # the hook has logged the failed migration; the DB rolled back
            line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            raise BridgeError(f"{action} failed, nothing of that migration was kept: {line}", "migration_failed")
    return expected_revision(applied_mirrored(connections[using]), revision_chain())


def migrations_upgrade(revision=HEAD, *, using="default", user="", stdout=None):
    """Run the mirrored Django migrations up to `revision` (head by default); returns the new revision."""
    chain = revision_chain()
    target = _resolve(revision, chain)
    current = _current_in_step(connections[using], chain)
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


def migrations_downgrade(revision, *, using="default", user="", stdout=None):
    """Unapply the mirrored Django migrations after `revision` (or all, for base); returns the new revision."""
    chain = revision_chain()
    target = _resolve(revision, chain)
    connection = connections[using]
    current = _current_in_step(connection, chain)
    target_index = -1 if target is None else position(target.revision, chain)
    if target_index > position(current, chain):
        raise BridgeError(f"'{revision}' is ahead of the current revision {current or BASE}: use upgrade",
                          "wrong_direction")
    calls = downgrade_targets(target_index, chain, applied_mirrored(connection))
    return _run_migrate(calls, using=using, action="downgrade", user=user, stdout=stdout)


def migrations_stamp(revision, *, using="default", user="", purge=False):
    """Set alembic_version to `revision` without running anything (like `alembic stamp`); returns it."""
    chain = revision_chain()
    target = _resolve(revision, chain)
    connection = connections[using]
    versions = version_rows(connection)
    if len(versions) > 1 and not purge:
        raise BridgeError(str(MultipleVersionRows(versions)), "multiple_versions")
    new = target.revision if target else None
    with transaction.atomic(using=using):
        write_version(connection, new)
    log.write_rows([log.LogRow(action="stamp", status="success", revision=new or "",
                               from_revision=",".join(versions), user=user)], using)
    return new


def migrations_sync(*, using="default", user=""):
    """Write alembic_version from Django's applied migrations; returns the revision written."""
    connection = connections[using]
    versions = version_rows(connection)
    new = expected_revision(applied_mirrored(connection), revision_chain())
    with transaction.atomic(using=using):
        write_version(connection, new)
    log.write_rows([log.LogRow(action="sync", status="success", revision=new or "",
                               from_revision=",".join(versions), user=user)], using)
    return new


def migrations_move(action, revision, *, using="default", request=None, user=""):
    """upgrade/downgrade for the admin and the API, audited as migration.<action> whether it worked or not."""
    from core.audit import audit_record

    service = migrations_upgrade if action == "upgrade" else migrations_downgrade
    versions = version_rows(connections[using])
    before = ",".join(versions) or BASE
    try:
        new = service(revision, using=using, user=user)
    except BridgeError as exc:
        audit_record(f"migration.{action}", request=request, target=revision, from_revision=before,
                     outcome="failed", error=str(exc))
        raise
    audit_record(f"migration.{action}", request=request, target=revision, from_revision=before,
                 to_revision=new or BASE, outcome="success")
    return new
