"""What keeps plain `manage.py migrate` in step with Alembic.

- Each mirrored migration runs inside guard.py: in its own transaction it takes the migration lock, checks that
  alembic_version holds the revision it expects to replace, runs its SQL and compare-and-sets alembic_version —
  or, when Alembic already applied that revision, applies Django's state only — or refuses (one line, a failed
  log row, exit 1) before any SQL ran. Unapplying unrecords the migration in that same transaction.
- Recording or unrecording outside a migration (`migrate --fake`, adopt) goes through the same compare-and-set
  (post_save/post_delete on Django's migration recorder row).
- pre_migrate wraps the planned mirrored migrations' apply/unapply; a failure writes its `failed` row at once on a
  separate connection (it survives the rollback); successes are logged at post_migrate.
"""

import contextvars
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import post_delete

from dbtools.migrations_bridge import guard, log, scripts
from dbtools.migrations_bridge.revisions import mirrored_apps, revision_chain
from dbtools.migrations_bridge.version_table import VersionConflict, as_rows, guarded_write, version_rows

_context = contextvars.ContextVar("migrations_bridge_context", default=None)
_runs = {}  # database alias → the MigrateRun between pre_migrate and post_migrate


@contextmanager
def bridge_context(action, user):
    """Log migrations run inside this block as `action` by `user` (services use upgrade/downgrade)."""
    token = _context.set({"action": action, "user": user})
    try:
        yield
    finally:
        _context.reset(token)


def applied_mirrored(connection):
    apps = set(mirrored_apps())
    return {key for key in MigrationRecorder(connection).applied_migrations() if key[0] in apps}


def expected_revision(applied, chain):
    """The revision paired with the latest applied mirrored migration (None at base)."""
    latest = None
    for pair in chain:
        if pair.key in applied and pair.revision:
            latest = pair.revision
    return latest


@dataclass
class MigrateRun:
    using: str
    chain: list
    before: set
    action: str = "migrate"
    user: str = ""
    timings: dict = field(default_factory=dict)
    logged: set = field(default_factory=set)
    skipped: set = field(default_factory=set)  # applied by Alembic already: Django's state only (logged as adopt)

    def revision_before(self, pair):
        index = self.chain.index(pair)
        return next((p.revision for p in reversed(self.chain[:index]) if p.revision), "")

    def row(self, pair, backwards, status, duration=None, error="", found=None):
        moved_to, moved_from = (self.revision_before(pair), pair.revision) if backwards else \
            (pair.revision, self.revision_before(pair))
        action = "adopt" if pair.key in self.skipped else self.action
        moved_from = ",".join(found) if found is not None else moved_from
        return log.LogRow(action=action, status=status, revision=moved_to, from_revision=moved_from,
                          user=self.user, app_label=pair.app_label, django_migration=pair.name,
                          duration_ms=duration, error=error)

    def changed_rows(self, after):
        rows = []
        for pair in self.chain:
            if pair.key not in self.logged and pair.key in after - self.before:
                rows.append(self.row(pair, False, "success", self.timings.get(pair.key)))
        for pair in reversed(self.chain):
            if pair.key not in self.logged and pair.key in self.before - after:
                rows.append(self.row(pair, True, "success", self.timings.get(pair.key)))
        self.logged.update(row_key for row_key in (self.before ^ after))
        return rows

    def failed(self, pair, backwards, duration, exc):
        # The migration's transaction is aborted: read what is committed on the log's own connection instead.
        connection = connections[self.using]
        done = set(self.timings)
        after = (self.before | done) if not backwards else (self.before - done)
        found = exc.found if isinstance(exc, VersionConflict) else None
        rows = self.changed_rows(after) + [self.row(pair, backwards, "failed", duration, str(exc).strip(), found)]
        self.logged.add(pair.key)
        _runs.pop(self.using, None)  # no post_migrate follows a failure
        log.write_rows(rows, connection.alias)

    def wrap(self, migration, backwards):
        pair = next(p for p in self.chain if p.key == (migration.app_label, migration.name))
        method = "unapply" if backwards else "apply"
        original = getattr(migration, method)
        connection, previous = connections[self.using], self.revision_before(pair)

        def guarded(project_state, schema_editor, collect_sql=False):
            if collect_sql:
                return original(project_state, schema_editor, collect_sql)
            start = time.perf_counter()
            try:
                if guard.before_step(connection, pair, previous, backwards) == guard.SKIP:
                    self.skipped.add(pair.key)
                    result = guard.state_only(migration, project_state)
                else:
                    result = original(project_state, schema_editor, collect_sql)
                    guard.after_step(connection, pair, previous, backwards)
            except VersionConflict as exc:
                self.failed(pair, backwards, (time.perf_counter() - start) * 1000, exc)
                raise guard.MigrationRefused(str(exc)) from None
            except Exception as exc:
                self.failed(pair, backwards, (time.perf_counter() - start) * 1000, exc)
                raise
            self.timings[pair.key] = (time.perf_counter() - start) * 1000
            return result

        setattr(migration, method, guarded)


def on_pre_migrate(sender, using="default", plan=None, **kwargs):
    if plan is None:
        return
    chain = revision_chain()
    keys = {pair.key for pair in chain if pair.revision}  # an unpaired one is check error E001, not ours to move
    context = _context.get() or {"action": "migrate", "user": ""}
    run = MigrateRun(using=using, chain=chain, before=applied_mirrored(connections[using]), **context)
    for migration, backwards in plan:
        if (migration.app_label, migration.name) in keys:
            run.wrap(migration, backwards)
    _runs[using] = run


def on_post_migrate(sender, using="default", **kwargs):
    run = _runs.pop(using, None)
    connection = connections[using]
    if run is None or not MigrationRecorder(connection).has_table():
        return
    after = applied_mirrored(connection)
    if after != run.before:
        log.write_rows(run.changed_rows(after), using)


def _recorder_write(connection, chain, key, unrecorded):
    after = applied_mirrored(connection)
    before = (after | {key}) if unrecorded else (after - {key})
    old, new = expected_revision(before, chain), expected_revision(after, chain)
    if old == new:
        return
    with transaction.atomic(using=connection.alias):
        guard.take_lock(connection)
        rows = version_rows(connection)
        if rows == as_rows(new):
            return
        if not unrecorded and len(rows) == 1 and scripts.is_at_or_past(rows[0], new):
            return  # Alembic is ahead (adopt, or a migration Alembic applied first)
        guarded_write(connection, as_rows(old), new)


def on_recorder_change(sender, instance, using="default", **kwargs):
    """A mirrored migration recorded (post_save) or unrecorded (post_delete) outside guard.py's steps."""
    if instance.app not in mirrored_apps():
        return
    connection = connections[using]
    run = _runs.get(using)
    unrecorded = kwargs.get("signal") is post_delete
    try:
        _recorder_write(connection, run.chain if run else revision_chain(), (instance.app, instance.name),
                        unrecorded)
    except VersionConflict as exc:
        log.write_rows([log.LogRow(action=run.action if run else "migrate", status="failed", revision=exc.new or "",
                                   from_revision=",".join(exc.found), user=run.user if run else "",
                                   app_label=instance.app, django_migration=instance.name, error=str(exc))],
                       using)
        raise guard.MigrationRefused(str(exc)) from None
