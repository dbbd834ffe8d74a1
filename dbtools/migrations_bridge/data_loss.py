"""What a downgrade would destroy: the tables and columns its migrations drop, with the rows they hold now.

Read from Django's migration states (before/after each step unapplied), and from the SQL each step would run
(as `sqlmigrate --backwards` prints it: RunSQL, a paired Alembic revision's downgrade()) for a table or column
the models never described. Either finding only adds a requirement; the row counts come from PostgreSQL.
"""

import re
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
        try:
            models = before.get_app_config(migration.app_label).get_models()
        except LookupError:  # an app with no models in its state (blog_search: RunSQL indexes only)
            continue
        for model in models:
            try:
                kept = after.get_model(migration.app_label, model._meta.model_name)
            except LookupError:
                found.append((model._meta.db_table, ""))
                continue
            found += [(model._meta.db_table, c) for c in sorted(_columns(model) - _columns(kept))]
    return found


DROP_TABLE = re.compile(r"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([\w\".]+(?:\s*,\s*[\w\".]+)*)", re.I)
DROP_COLUMN = re.compile(r"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w\".]+)\s+DROP\s+"
                         r"(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?([\w\"]+)", re.I)


def _name(text):
    return text.strip().strip('"').removeprefix("public.").strip('"')


def dropped_by_sql(executor, plan):
    """[(table, column or "")] named by DROP TABLE / ALTER TABLE ... DROP COLUMN in the plan's backwards SQL."""
    found = []
    for migration, backwards in plan:
        if not backwards:
            continue
        for statement in executor.loader.collect_sql([(migration, backwards)]):
            if match := DROP_TABLE.match(statement):
                found += [(_name(t), "") for t in match.group(1).split(",")]
            elif (match := DROP_COLUMN.match(statement)) and match.group(2).upper() != "CONSTRAINT":
                found.append((_name(match.group(1)), _name(match.group(2))))
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
    found = list(dict.fromkeys(dropped(executor, plan) + dropped_by_sql(executor, plan)))
    tables = {table for table, column in found if not column}
    with connections[using].cursor() as cursor:
        return DataLoss([Loss(table, column, _count(cursor, table, column)) for table, column in found
                         if not (column and table in tables)])  # a column of a dropped table: counted there


def recent_verified_backup():
    """The newest backup verified OK that finished within MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES, or None."""
    from dbtools.models import Backup

    since = timezone.now() - timedelta(minutes=settings.MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES)
    return (Backup.objects.filter(status="success", verify_ok=True, finished_at__gte=since)
            .order_by("-finished_at").first())
