"""Start-up checks of the revision map (`manage.py check` fails on them): every migration of a mirrored app is
paired, ids are unique and fit alembic_version, and the Alembic scripts form the same single chain. An Alembic
revision no Django migration pairs with yet is only a warning (W007)."""

from collections import Counter

from django.core import checks

from dbtools.migrations_bridge import scripts
from dbtools.migrations_bridge.revisions import MAX_REVISION_LENGTH, revision_chain


def _pairing_errors(chain):
    errors = []
    for pair in chain:
        if not pair.revision:
            errors.append(checks.Error(
                f"Django migration {pair.django_name} of mirrored app '{pair.app_label}' has no Alembic pair.",
                hint="Add `alembic_revision = \"<id>\"` to its Migration class and a matching revision script "
                     "in dbtools/alembic/versions/.", id="pgdeck.alembic.E001"))
        elif len(pair.revision) > MAX_REVISION_LENGTH:
            errors.append(checks.Error(
                f"Alembic revision '{pair.revision}' of {pair.django_name} is longer than {MAX_REVISION_LENGTH} "
                "characters (alembic_version.version_num is VARCHAR(32)).", id="pgdeck.alembic.E003"))
    for revision, count in Counter(p.revision for p in chain if p.revision).items():
        if count > 1:
            names = ", ".join(p.django_name for p in chain if p.revision == revision)
            errors.append(checks.Error(f"Alembic revision '{revision}' is paired with {count} migrations: {names}.",
                                       id="pgdeck.alembic.E002"))
    return errors


def _script_errors(chain):
    try:
        heads, known = scripts.script_heads(), scripts.script_revisions()
    except Exception as exc:  # a broken script directory is reported, not raised at start-up
        return [checks.Error(f"Alembic script directory {scripts.ini_path()} cannot be read: {exc}",
                             id="pgdeck.alembic.E004")]
    errors = []
    if len(heads) > 1:
        errors.append(checks.Error(f"Alembic has {len(heads)} heads ({', '.join(sorted(heads))}).",
                                   hint="Merge them (alembic merge) and pair the merge with a Django migration.",
                                   id="pgdeck.alembic.E005"))
    previous = None
    for pair in (p for p in chain if p.revision):
        if pair.revision not in known:
            errors.append(checks.Error(f"{pair.django_name} is paired with Alembic revision '{pair.revision}', "
                                       "which has no script.", id="pgdeck.alembic.E004"))
        elif known[pair.revision][0] != previous:
            errors.append(checks.Error(
                f"Alembic revision '{pair.revision}' revises '{known[pair.revision][0]}', but the Django chain puts "
                f"'{previous}' before it.", id="pgdeck.alembic.E006"))
        previous = pair.revision
    for revision in alembic_only(chain, known):
        # A warning, not an error: a team that ran `alembic revision` + `alembic upgrade` must still be able to
        # start the console (and see the drift there) before it pairs the revision.
        errors.append(checks.Warning(f"Alembic revision '{revision}' is paired with no Django migration.",
                                     hint=f"Run `manage.py alembic pair {revision}` to write its Django migration.",
                                     id="pgdeck.alembic.W007"))
    return errors


def alembic_only(chain, known):
    """Alembic revisions no Django migration pairs with, oldest first."""
    paired = {p.revision for p in chain}
    return [revision for revision in reversed(list(known)) if revision not in paired]


def bridge_problems():
    chain = revision_chain()
    return _pairing_errors(chain) + _script_errors(chain)


@checks.register("pgdeck_alembic")
def check_revision_map(app_configs=None, **kwargs):
    return bridge_problems()
