"""What a downgrade would destroy: the tables and columns its migrations drop, with the rows they hold now.

Read from Django's migration states (before/after each step unapplied) rather than from the SQL text, so a
RunSQL-built table (the seed's) counts as well as one a model operation created.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from psycopg import sql

from dbtools.migrations_bridge.hooks import applied_mirrored
from dbtools.migrations_bridge.revisions import position, resolve, revision_chain


@dataclass
class Loss:
    table: str
    column: str  # "" when the whole table goes
    rows: int

    @property
    def label(self):
        return f"{self.table}.{self.column}" if self.column else self.table


@dataclass
class DataLoss:
    items: list = field(default_factory=list)

    @property
    def total(self):
        return sum(item.rows for item in self.items)

    @property
    def phrase(self):
        """What a person types to confirm (the row count makes them read it)."""
        return f"drop {self.total} rows"

    def describe(self):
        return ", ".join(f"{i.label} ({i.rows} row{'s' if i.rows != 1 else ''})" for i in self.items if i.rows)


def downgrade_plan(revision, using="default"):
    """(executor, plan) of Django's `migrate` calls a downgrade to `revision` makes (UnknownRevision if bad)."""
    from dbtools.migrations_bridge.services import downgrade_targets

    executor = MigrationExecutor(connections[using])
    chain = revision_chain()
    target = resolve(revision, chain)
    index = -1 if target is None else position(target.revision, chain)
    plan = []
    for app, name in downgrade_targets(index, chain, applied_mirrored(connections[using])):
        plan += executor.migration_plan([(app, None if name == "zero" else name)])
    return executor, plan


def _columns(model):
    return {f.column for f in model._meta.local_concrete_fields}


def dropped(executor, plan):
    """[(table, column or "")] that the backwards steps of `plan` remove, in plan order."""
    found = []
    for migration, backwards in plan:
        if not backwards:
            continue
        key = (migration.app_label, migration.name)
        before = executor.loader.project_state(key, at_end=True).apps
        after = executor.loader.project_state(key, at_end=False).apps
        for model in before.get_app_config(migration.app_label).get_models():
            try:
                kept = after.get_model(migration.app_label, model._meta.model_name)
            except LookupError:
                found.append((model._meta.db_table, ""))
                continue
            found += [(model._meta.db_table, c) for c in sorted(_columns(model) - _columns(kept))]
    return found


def _count(cursor, table, column):
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{table}"])
    if not cursor.fetchone()[0]:
        return 0
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    if column:
        query += sql.SQL(" WHERE {} IS NOT NULL").format(sql.Identifier(column))
    cursor.execute(query)
    return cursor.fetchone()[0]


def downgrade_data_loss(revision, using="default"):
    """The DataLoss of downgrading to `revision` (items only for tables/columns that exist)."""
    executor, plan = downgrade_plan(revision, using)
    with connections[using].cursor() as cursor:
        return DataLoss([Loss(table, column, _count(cursor, table, column))
                         for table, column in dropped(executor, plan)])


def recent_verified_backup():
    """The newest backup verified OK that finished within MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES, or None."""
    from dbtools.models import Backup

    since = timezone.now() - timedelta(minutes=settings.MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES)
    return (Backup.objects.filter(status="success", verify_ok=True, finished_at__gte=since)
            .order_by("-finished_at").first())
