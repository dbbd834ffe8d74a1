"""What keeps plain `manage.py migrate` in step with Alembic.

- Recording a mirrored migration as applied (post_save on Django's migration recorder row) rewrites
  alembic_version in the same transaction as the migration; unapplying does it right after (Django records
  unapplied migrations outside the migration's transaction). post_migrate re-syncs once more when the run
  changed a mirrored app (and only then: migrating other apps leaves an unadopted Alembic database alone).
- pre_migrate wraps the planned mirrored migrations' apply/unapply to time them; a failure writes its `failed`
  row at once on a separate connection (it survives the rollback); successes are logged at post_migrate.
"""

import contextvars
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from dbtools.migrations_bridge import log
from dbtools.migrations_bridge.revisions import mirrored_apps, revision_chain
from dbtools.migrations_bridge.version_table import write_version

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


def sync_version(connection, chain=None):
    chain = revision_chain() if chain is None else chain
    return write_version(connection, expected_revision(applied_mirrored(connection), chain))


@dataclass
class MigrateRun:
    using: str
    chain: list
    before: set
    action: str = "migrate"
    user: str = ""
    timings: dict = field(default_factory=dict)
    logged: set = field(default_factory=set)

    def revision_before(self, pair):
        index = self.chain.index(pair)
        return next((p.revision for p in reversed(self.chain[:index]) if p.revision), "")

    def row(self, pair, backwards, status, duration=None, error=""):
        moved_to, moved_from = (self.revision_before(pair), pair.revision) if backwards else \
            (pair.revision, self.revision_before(pair))
        return log.LogRow(action=self.action, status=status, revision=moved_to, from_revision=moved_from,
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
        rows = self.changed_rows(after) + [self.row(pair, backwards, "failed", duration, str(exc).strip())]
        self.logged.add(pair.key)
        _runs.pop(self.using, None)  # no post_migrate follows a failure
        log.write_rows(rows, connection.alias)

    def wrap(self, migration, backwards):
        pair = next(p for p in self.chain if p.key == (migration.app_label, migration.name))
        method = "unapply" if backwards else "apply"
        original = getattr(migration, method)

        def timed(project_state, schema_editor, collect_sql=False):
            if collect_sql:
                return original(project_state, schema_editor, collect_sql)
            start = time.perf_counter()
            try:
                result = original(project_state, schema_editor, collect_sql)
            except Exception as exc:
                self.failed(pair, backwards, (time.perf_counter() - start) * 1000, exc)
                raise
            self.timings[pair.key] = (time.perf_counter() - start) * 1000
            return result

        setattr(migration, method, timed)


def on_pre_migrate(sender, using="default", plan=None, **kwargs):
    if plan is None:
        return
    chain = revision_chain()
    keys = {pair.key for pair in chain}
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
        # Only when this migrate changed a mirrored app: a database Alembic built and nobody adopted yet keeps
        # its alembic_version while other apps are migrated.
        sync_version(connection, run.chain)
        log.write_rows(run.changed_rows(after), using)


def on_recorder_change(sender, instance, using="default", **kwargs):
    if instance.app in mirrored_apps():
        connection = connections[using]
        run = _runs.get(using)
        sync_version(connection, run.chain if run else None)

