"""`manage.py alembic pair REV`: write the Django migration that pairs an Alembic-only revision, so the two
histories meet again. Its database side runs the revision script (operations.RunAlembicRevision); its state
side is what `makemigrations` would write for the app's models now (nothing when the models did not change)."""

import re
from pathlib import Path

from django.apps import apps as django_apps
from django.db import migrations
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter

from dbtools.migrations_bridge import scripts
from dbtools.migrations_bridge.operations import RunAlembicRevision
from dbtools.migrations_bridge.revisions import MAX_REVISION_LENGTH, disk_loader, revision_chain
from dbtools.migrations_bridge.services import BridgeError


def _check_pairable(revision, chain):
    known = scripts.script_revisions()
    if revision not in known:
        raise BridgeError(f"no Alembic script has revision '{revision}'", "unknown_revision")
    if any(p.revision == revision for p in chain):
        pair = next(p for p in chain if p.revision == revision)
        raise BridgeError(f"'{revision}' is already paired with {pair.django_name}", "already_paired")
    if len(revision) > MAX_REVISION_LENGTH:
        raise BridgeError(f"'{revision}' is longer than {MAX_REVISION_LENGTH} characters", "invalid")
    head = chain[-1].revision if chain else None
    if (known[revision][0] or None) != head:
        raise BridgeError(f"'{revision}' revises '{known[revision][0]}', but the Django chain ends at '{head}': "
                          "pair the revisions in order, oldest first", "wrong_order")


def _state_operations(loader, app_label):
    detector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(django_apps))
    changes = detector.changes(graph=loader.graph, trim_to_apps={app_label})
    return [op for migration in changes.get(app_label, []) for op in migration.operations]


def _name(loader, app_label, revision):
    leaves = loader.graph.leaf_nodes(app_label)
    number = (MigrationAutodetector.parse_number(leaves[0][1]) or 0) + 1 if leaves else 1
    doc = scripts.script_revisions()[revision][1].splitlines()[0] if scripts.script_revisions()[revision][1] else ""
    slug = re.sub(r"[^a-z0-9]+", "_", doc.lower()).strip("_")[:40] or f"alembic_{revision}"
    return f"{number:04d}_{slug}"


def migrations_pair(revision, *, app_label=None):
    """Write the paired migration file; returns its path."""
    chain = revision_chain()
    _check_pairable(revision, chain)
    app_label = app_label or (chain[-1].app_label if chain else "blog")
    loader = disk_loader()
    migration = migrations.Migration(_name(loader, app_label, revision), app_label)
    migration.dependencies = list(loader.graph.leaf_nodes(app_label))
    if chain and chain[-1].app_label != app_label:  # the chain's order is the revisions' order
        migration.dependencies.append(chain[-1].key)
    migration.operations = [migrations.SeparateDatabaseAndState(
        database_operations=[RunAlembicRevision(revision)],
        state_operations=_state_operations(loader, app_label))]
    writer = MigrationWriter(migration)
    text = writer.as_string().replace(
        "class Migration(migrations.Migration):\n",
        f"class Migration(migrations.Migration):\n    alembic_revision = {revision!r}\n", 1)
    path = Path(writer.path)
    if path.exists():
        raise BridgeError(f"{path} exists already; nothing was written", "invalid")
    path.write_text(text)
    return str(path)
