"""Reads of the bridge: the state of both sides, the drift between them, migrations_log, SQL previews."""

from dataclasses import dataclass, field

from django.apps import apps as django_apps
from django.db import connections
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState

from dbtools.migrations_bridge import scripts
from dbtools.migrations_bridge.checks import alembic_only
from dbtools.migrations_bridge.hooks import applied_mirrored, expected_revision
from dbtools.migrations_bridge.revisions import mirrored_apps, position, revision_chain
from dbtools.migrations_bridge.version_table import version_rows
from dbtools.models import MigrationLog


@dataclass
class ChainEntry:
    pair: object
    applied: bool  # Django has recorded the migration
    in_alembic: bool  # alembic_version is at or past this revision
    doc: str = ""


@dataclass
class AlembicOnly:
    """An Alembic revision script no Django migration pairs with (yet: `manage.py alembic pair REV`)."""
    revision: str
    down_revision: str
    doc: str
    in_alembic: bool  # alembic_version is at or past it


@dataclass
class BridgeState:
    versions: list
    expected: str | None
    head: str | None
    script_heads: list
    entries: list = field(default_factory=list)
    drift: list = field(default_factory=list)
    alembic_only: list = field(default_factory=list)

    @property
    def current(self):
        return self.versions[0] if len(self.versions) == 1 else None

    @property
    def in_sync(self):
        return not self.drift

    def entry_for(self, revision):
        return next((e for e in self.entries if e.pair.revision == revision), None)


def unmigrated_changes(connection):
    """App labels of mirrored apps whose models differ from their migrations (makemigrations would write one)."""
    loader = MigrationExecutor(connection).loader
    detector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(django_apps))
    changes = detector.changes(graph=loader.graph, trim_to_apps=set(mirrored_apps()))
    return sorted(label for label in changes if label in mirrored_apps())


def _label(revision, chain):
    pair = next((p for p in chain if p.revision == revision), None)
    return f"{revision} ({pair.django_name})" if pair else f"{revision}"


def version_drift(versions, applied, chain):
    """Messages saying how alembic_version and Django's applied migrations disagree ([] when they agree)."""
    if len(versions) > 1:
        return [f"alembic_version has {len(versions)} rows ({', '.join(versions)}); pgdeck expects one."]
    current, expected = (versions[0] if versions else None), expected_revision(applied, chain)
    messages = []
    if current and position(current, chain) is None and current in scripts.script_revisions():
        messages.append(f"alembic_version is '{current}', an Alembic revision no Django migration pairs with: "
                        f"run `manage.py alembic pair {current}`.")
    elif current and position(current, chain) is None:
        messages.append(f"alembic_version is '{current}', which no Django migration of "
                        f"{', '.join(mirrored_apps())} pairs with.")
    elif current != expected:
        django_side = _label(expected, chain) if expected else "none (base)"
        alembic_side = _label(current, chain) if current else "empty (base)"
        fix = "manage.py alembic adopt" if expected is None else "manage.py alembic sync"
        messages.append(f"alembic_version is {alembic_side} but Django's mirrored migrations are applied up to "
                        f"{django_side}: run `{fix}` once you know which side is right.")
    seen_gap = next((p for p in chain if p.key not in applied), None)
    if seen_gap and any(p.key in applied for p in chain[chain.index(seen_gap):]):
        messages.append(f"Django has applied later mirrored migrations without {seen_gap.django_name}.")
    return messages


def bridge_state(using="default", *, with_models=True):
    connection = connections[using]
    chain = revision_chain()
    applied = applied_mirrored(connection)
    versions = version_rows(connection)
    heads = scripts.script_heads()
    current_pos = position(versions[0], chain) if len(versions) == 1 else -1
    docs = scripts.script_revisions()
    entries = [ChainEntry(pair, pair.key in applied, current_pos is not None and i <= current_pos,
                          docs.get(pair.revision, (None, ""))[1]) for i, pair in enumerate(chain)]
    state = BridgeState(versions=versions, expected=expected_revision(applied, chain),
                        head=chain[-1].revision if chain else None, script_heads=heads, entries=entries)
    state.drift = version_drift(versions, applied, chain)
    current = versions[0] if len(versions) == 1 else None
    for revision in alembic_only(chain, docs):
        down = docs[revision][0]
        state.alembic_only.append(AlembicOnly(revision, ",".join(down) if isinstance(down, tuple) else down or "",
                                              docs[revision][1], scripts.is_at_or_past(current, revision)))
        if revision != current:
            state.drift.append(f"Alembic revision '{revision}' is paired with no Django migration: run "
                               f"`manage.py alembic pair {revision}`.")
    if len(heads) > 1:
        state.drift.append(f"Alembic has {len(heads)} heads ({', '.join(sorted(heads))}); merge them.")
    if with_models:
        for label in unmigrated_changes(connection):
            state.drift.append(f"Models of '{label}' have changes with no migration: run "
                               f"`manage.py makemigrations {label}` and pair it with an Alembic revision.")
    return state


def app_migrations(using="default"):
    """[{app, applied: [names], pending: [names], mirrored}] for every app with migrations, mirrored apps first."""
    executor = MigrationExecutor(connections[using])
    applied = executor.loader.applied_migrations
    by_app = {}
    for app_label, name in sorted(executor.loader.graph.nodes):
        row = by_app.setdefault(app_label, {"app": app_label, "applied": [], "pending": [],
                                            "mirrored": app_label in mirrored_apps()})
        row["applied" if (app_label, name) in applied else "pending"].append(name)
    return sorted(by_app.values(), key=lambda row: (not row["mirrored"], row["app"]))


def pending_plan(executor):
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def plan_sql(executor, plan):
    """[(\"app.migration\", backwards, sql text)] as `sqlmigrate` prints it, for each step of `plan`."""
    steps = []
    for migration, backwards in plan:
        statements = executor.loader.collect_sql([(migration, backwards)])
        steps.append((f"{migration.app_label}.{migration.name}", backwards, "\n".join(statements)))
    return steps


def log_entries(*, action="", status="", since=None, until=None, limit=100):
    rows = MigrationLog.objects.all()
    if action:
        rows = rows.filter(action=action)
    if status:
        rows = rows.filter(status=status)
    if since:
        rows = rows.filter(timestamp__date__gte=since)
    if until:
        rows = rows.filter(timestamp__date__lte=until)
    return rows.order_by("-timestamp", "-id")[:limit]
