"""Issue 20 item 3: a team adds a revision with the real `alembic revision` + `alembic upgrade head`. The console
still starts (a warning, not an error), shows the drift, and `manage.py alembic pair REV` writes the Django
migration that makes the two histories meet again; on a database Alembic already moved it is recognised as
applied, on a new database it runs the revision's script."""

import shutil
import sys

import pytest

from tests.migrations_bridge.conftest import ROOT, failed, ok

pytestmark = pytest.mark.slow

GHI789 = '''"""Add posts.slug

Revision ID: ghi789
Revises: def456
"""

import sqlalchemy as sa
from alembic import op

revision = "ghi789"
down_revision = "def456"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("posts", sa.Column("slug", sa.String(50), nullable=True))
    op.create_index("idx_posts_slug", "posts", ["slug"])


def downgrade():
    op.drop_index("idx_posts_slug", table_name="posts")
    op.drop_column("posts", "slug")
'''


@pytest.fixture
def project(tmp_path):
    """pgdeck with a copy of its Alembic scripts + ghi789, and a copy of blog's migrations the test may add to."""
    alembic_dir = tmp_path / "alembic"
    shutil.copytree(ROOT / "dbtools" / "alembic", alembic_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (alembic_dir / "versions" / "003_ghi789_add_posts_slug.py").write_text(GHI789)
    ini = alembic_dir / "alembic.ini"
    ini.write_text(ini.read_text().replace("prepend_sys_path = %(here)s/../..", f"prepend_sys_path = {ROOT}"))
    shutil.copytree(ROOT / "blog" / "migrations", tmp_path / "pairmig", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "pair_settings.py").write_text(
        "from config.settings.test import *  # noqa: F403\n"
        "MIGRATION_MODULES = {'blog': 'pairmig'}\n"
        f"ALEMBIC_CONFIG = {str(ini)!r}\n")
    return tmp_path


class Team:
    def __init__(self, db, project):
        self.db, self.project = db, project

    def manage(self, *args):
        return self.db.run([sys.executable, "manage.py", *args], "pair_settings",
                           PYTHONPATH=f"{self.project}:{ROOT}")

    def alembic(self, *args):
        ini = str(self.project / "alembic" / "alembic.ini")
        return self.db.run([sys.executable, "-m", "alembic", "-c", ini, "-x", f"dburl={self.db.url}", *args])


def test_alembic_only_revision_is_a_warning_then_pair_makes_the_histories_meet(scratch_db, project):
    team = Team(scratch_db(migrated=True), project)
    ok(team.alembic("upgrade", "head"))
    assert team.db.versions() == ["ghi789"]
    check = team.manage("check")
    assert check.returncode == 0 and "pgdeck.alembic.W007" in check.stderr + check.stdout  # was E007: exit 1
    ok(team.manage("migrate", "--noinput"))  # the console's commands still run
    current = ok(team.manage("alembic", "current"))
    assert "run `manage.py alembic pair ghi789`" in current
    history = ok(team.manage("alembic", "history")).splitlines()
    assert history[1].startswith("ghi789") and "(head) (current)" in history[1]
    assert "pair ghi789" in failed(team.manage("alembic", "check"))

    out = ok(team.manage("alembic", "pair", "ghi789"))
    written = project / "pairmig" / "0003_add_posts_slug.py"
    assert str(written) in out and "alembic_revision = 'ghi789'" in written.read_text()
    migrate = ok(team.manage("migrate", "--noinput"))
    assert "Applying blog.0003_add_posts_slug" in migrate
    assert team.db.versions() == ["ghi789"]
    assert [r[:4] for r in team.db.log()][-1] == ("adopt", "success", "blog", "0003_add_posts_slug")
    assert "in sync" in ok(team.manage("alembic", "check"))
    assert "ghi789" in failed(team.manage("alembic", "pair", "ghi789"))  # already paired: one line

    fresh = Team(scratch_db(), project)
    ok(fresh.manage("migrate", "--noinput"))  # Django's path runs the revision's own script
    assert fresh.db.versions() == ["ghi789"]
    assert fresh.db.catalog() == team.db.catalog()
    assert ok(fresh.alembic("current")).strip() == "ghi789 (head)"
    # Dropping a column that holds values is a downgrade that destroys rows: counted, and confirmed.
    ok(fresh.db.psql("INSERT INTO users (username, email) VALUES ('a', 'a@x'); "
                     "INSERT INTO posts (title, content, user_id, slug) SELECT 't', 'c', id, 's' FROM users; "
                     "INSERT INTO posts (title, content, user_id) SELECT 'u', 'c', id FROM users"))
    ok(fresh.db.psql("INSERT INTO backups (file, format, checksum, encrypted, started_at, finished_at, status, "
                     "error, snapshot, progress_bytes, verified_at, verify_result, verify_ok) VALUES ('b.dump', "
                     "'custom', '', false, now(), now(), 'success', '', '{}', 0, now(), 'ok', true)"))
    assert failed(fresh.manage("alembic", "downgrade", "def456")).strip().splitlines()[-1] == (
        "CommandError: downgrading to def456 drops posts.slug (1 row): pass --yes; nothing was changed")
    ok(fresh.manage("alembic", "downgrade", "def456", "--yes"))
    assert fresh.db.versions() == ["def456"] and "slug" not in str(fresh.db.catalog()["columns"])
