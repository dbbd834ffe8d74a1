"""Issue 20's race: `manage.py migrate` ‖ the real `alembic upgrade head` (‖ `manage.py alembic downgrade base`)
from base, over and over. Whoever gets the migration lock first moves; the other waits, sees the new state and
does nothing (or recognises what Alembic applied): no traceback, no drift, alembic_version right every time."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.migrations_bridge.conftest import ALEMBIC_INI, ROOT, ok

pytestmark = pytest.mark.slow


def _start(db, argv):
    env = {**os.environ, "DATABASE_URL": db.url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("ALEMBIC_DATABASE_URL", None)
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _race(db, *commands):
    processes = [_start(db, argv) for argv in commands]
    return [(p.returncode, out, err) for p in processes for out, err in [p.communicate(timeout=120)]]


def _state(db):
    blog = {name for (name,) in db.query("SELECT name FROM django_migrations WHERE app = 'blog'")}
    return db.versions(), blog, db.exists("users"), db.exists("posts")


HEAD = (["def456"], {"0001_create_users_table", "0002_create_posts_table"}, True, True)


MIGRATE = [sys.executable, "manage.py", "migrate", "--noinput"]
# Back to base as `migrate blog zero` leaves it: the search indexes (app blog_search) go too.
RESET = ("DROP TABLE IF EXISTS posts, users; DELETE FROM alembic_version; "
         "DELETE FROM django_migrations WHERE app = 'blog' OR app = 'blog_search'")
DATABASES, RUNS_EACH = 2, 10  # 20 races, two databases at a time (the CLIs' start-up dominates)


def _alembic_up(db):
    return [sys.executable, "-m", "alembic", "-c", ALEMBIC_INI, "-x", f"dburl={db.url}", "upgrade", "head"]


def _races(db):
    """RUNS_EACH races on `db`, each from base; (run, problem) for every run that went wrong."""
    problems = []
    for run in range(RUNS_EACH):
        with psycopg.connect(db.conninfo) as conn:
            conn.execute(RESET)
        for code, out, err in _race(db, MIGRATE, _alembic_up(db)):
            if code != 0 or "Traceback" in err:
                problems.append((run, code, out, err))
        if _state(db) != HEAD:
            problems.append((run, "drift", _state(db)))
    return problems


def test_migrate_races_alembic_upgrade_from_base(scratch_db):
    databases = [scratch_db(migrated=True) for _ in range(DATABASES)]
    with ThreadPoolExecutor(DATABASES) as pool:
        problems = [p for found in pool.map(_races, databases) for p in found]
    assert problems == []
    db = databases[0]
    assert "in sync" in ok(db.manage("alembic", "check"))


def test_migrate_races_alembic_upgrade_and_manage_downgrade(scratch_db):
    """Three writers from base. Any order is legal, so the end state is head, base, or Alembic ahead of Django
    (alembic upgrade ran last) — never a half-moved version; the next plain migrate always lands on head."""
    db = scratch_db(migrated=True)
    downgrade = [sys.executable, "manage.py", "alembic", "downgrade", "base"]
    for run in range(5):
        with psycopg.connect(db.conninfo) as conn:
            conn.execute(RESET)
        for code, out, err in _race(db, MIGRATE, _alembic_up(db), downgrade):
            assert "Traceback" not in err, (run, out, err)
            assert code == 0 or len(err.strip().splitlines()) == 1, (run, out, err)
        versions, blog, users, posts = _state(db)
        assert (users, posts) == (bool(versions), bool(versions)), (run, _state(db))
        assert blog in (set(), HEAD[1]) and (not blog or versions == ["def456"]), (run, _state(db))
        ok(db.manage("migrate", "--noinput"))
        assert _state(db) == HEAD, run
