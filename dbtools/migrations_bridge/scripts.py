"""pgdeck's Alembic script directory (dbtools/alembic), read through Alembic's own API."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings

DEFAULT_INI = Path(__file__).resolve().parent.parent / "alembic" / "alembic.ini"


def ini_path():
    return str(getattr(settings, "ALEMBIC_CONFIG", "") or DEFAULT_INI)


# Alembic (and SQLAlchemy under it) is imported on first use: loading it at app start-up cost every
# manage.py process ~0.4 s, and `make run` starts several.
def alembic_config():
    from alembic.config import Config

    return Config(ini_path())


@lru_cache(maxsize=4)
def _script_directory(path):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(Config(path))


def script_directory():
    return _script_directory(ini_path())


def script_heads():
    return list(script_directory().get_heads())


def script_revisions():
    """{revision id: (down_revision, doc)} of every Alembic revision script."""
    return {script.revision: (script.down_revision, script.doc or "")
            for script in script_directory().walk_revisions()}


def ancestors(revision):
    """`revision` and every revision below it in Alembic's scripts (empty when no script knows it)."""
    known = script_revisions()
    seen, todo = set(), [revision]
    while todo:
        current = todo.pop()
        if current in seen or current not in known:
            continue
        seen.add(current)
        down = known[current][0]
        todo.extend(down if isinstance(down, (tuple, list)) else [down] if down else [])
    return seen


def is_at_or_past(current, revision):
    """True when Alembic's scripts put `revision` at or below `current` (Alembic has applied it)."""
    return bool(current) and revision in ancestors(current)
