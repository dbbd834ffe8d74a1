"""The revision map: which Django migration pairs with which Alembic revision.

One place only: the `alembic_revision` attribute of the migration classes of the mirrored apps
(settings.ALEMBIC_MIRRORED_APPS). The chain is those migrations in Django's dependency order; Alembic's history is
expected to be the same linear chain (checks.py verifies both).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.migrations.loader import MigrationLoader

BASE = "base"
HEAD = "head"
MAX_REVISION_LENGTH = 32  # alembic_version.version_num is VARCHAR(32)


@dataclass(frozen=True)
class Pair:
    app_label: str
    name: str
    revision: str  # "" when the migration has no alembic_revision (a check error for mirrored apps)

    @property
    def key(self):
        return (self.app_label, self.name)

    @property
    def django_name(self):
        return f"{self.app_label}.{self.name}"


class UnknownRevision(ValueError):
    """A revision id (or Django migration) that the map does not know."""


def mirrored_apps():
    return list(getattr(settings, "ALEMBIC_MIRRORED_APPS", ["blog"]))


def disk_loader():
    """Migrations as on disk (no database access)."""
    return MigrationLoader(None, ignore_no_migrations=True)


def revision_chain(loader=None):
    """Every migration of the mirrored apps, as Pairs, in the order Django applies them."""
    loader = loader or disk_loader()
    apps = set(mirrored_apps())
    targets = [node for node in loader.graph.leaf_nodes() if node[0] in apps]
    ordered, seen = [], set()
    for target in targets:
        for key in loader.graph.forwards_plan(target):
            if key[0] in apps and key not in seen:
                seen.add(key)
                migration = loader.graph.nodes[key]
                ordered.append(Pair(key[0], key[1], str(getattr(migration, "alembic_revision", "") or "")))
    return ordered


def resolve(revision, chain=None):
    """A revision id, 'head', 'base', or 'app.migration' → its Pair (None for base); UnknownRevision otherwise."""
    chain = revision_chain() if chain is None else chain
    if revision == BASE:
        return None
    if revision == HEAD:
        if not chain:
            raise UnknownRevision("no mirrored migrations: 'head' is undefined")
        return chain[-1]
    for pair in chain:
        if revision in (pair.revision, pair.django_name) and revision:
            return pair
    known = ", ".join(p.revision for p in chain if p.revision) or "none"
    raise UnknownRevision(f"unknown revision '{revision}': known revisions are {known} (or head, base)")


def position(revision, chain):
    """Index of `revision` in the chain (-1 for base/None)."""
    if revision in (None, "", BASE):
        return -1
    return next((i for i, pair in enumerate(chain) if pair.revision == revision), None)
