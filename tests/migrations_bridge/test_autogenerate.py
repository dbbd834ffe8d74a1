"""Issue 20 item 4: env.py gives Alembic the mirrored apps' Django models as target_metadata, so the real
`alembic check` works and `alembic revision --autogenerate` writes exactly a model change; applied with the CLI
and paired, `manage.py migrate` and `alembic check` both report in sync."""

import shutil
import sys

import pytest

from tests.migrations_bridge.conftest import ROOT, ok

pytestmark = pytest.mark.slow

MODELS = '''from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=80)
    body = models.TextField(blank=True, default="")
{extra}
    class Meta:
        db_table = "notes"
        indexes = [models.Index(fields=["title"], name="idx_notes_title")]
'''


@pytest.fixture
def project(tmp_path):
    """pgdeck plus a mirrored app `notes` whose models the test edits, and a copy of the Alembic scripts."""
    alembic_dir = tmp_path / "alembic"
    shutil.copytree(ROOT / "dbtools" / "alembic", alembic_dir, ignore=shutil.ignore_patterns("__pycache__"))
    ini = alembic_dir / "alembic.ini"
    ini.write_text(ini.read_text().replace("prepend_sys_path = %(here)s/../..", f"prepend_sys_path = {ROOT}"))
    (tmp_path / "notes" / "migrations").mkdir(parents=True)
    (tmp_path / "notes" / "__init__.py").write_text("")
    (tmp_path / "notes" / "migrations" / "__init__.py").write_text("")
    (tmp_path / "notes" / "models.py").write_text(MODELS.format(extra=""))
    (tmp_path / "notes_settings.py").write_text(
        "from config.settings.test import *  # noqa: F403\n"
        "INSTALLED_APPS = [*INSTALLED_APPS, 'notes']  # noqa: F405\n"
        "ALEMBIC_MIRRORED_APPS = ['blog', 'notes']\n"
        f"ALEMBIC_CONFIG = {str(ini)!r}\n")
    return tmp_path


def test_real_alembic_check_passes_on_a_migrated_database(scratch_db):
    db = scratch_db(migrated=True)
    result = db.alembic("check")
    assert result.returncode == 0 and "No new upgrade operations detected." in result.stdout, result.stderr


def test_autogenerate_round_trip(scratch_db, project):
    db = scratch_db(migrated=True)
    env = {"PYTHONPATH": f"{project}:{ROOT}"}
    ini = str(project / "alembic" / "alembic.ini")

    def alembic(*args):
        return db.run([sys.executable, "-m", "alembic", "-c", ini, "-x", f"dburl={db.url}", *args],
                      "notes_settings", **env)

    def manage(*args):
        return db.run([sys.executable, "manage.py", *args], "notes_settings", **env)

    for rev, extra, expected in [
        ("jkl012", "", "op.create_table('notes'"),
        ("mno345", "    slug = models.CharField(max_length=30, null=True)\n",
         "op.add_column('notes', sa.Column('slug', sa.String(length=30), nullable=True))"),
    ]:
        (project / "notes" / "models.py").write_text(MODELS.format(extra=extra))
        ok(alembic("revision", "--autogenerate", "-m", f"notes {rev}", "--rev-id", rev))
        script = next((project / "alembic" / "versions").glob(f"{rev}_*.py")).read_text()
        body = script.split("def upgrade()")[1].split("def downgrade()")[0]
        assert expected in body and "users" not in body and "posts" not in body, body  # exactly that change
        ok(alembic("upgrade", "head"))
        assert db.versions() == [rev]
        ok(manage("alembic", "pair", rev, "--app", "notes"))
        assert "Applying notes." in ok(manage("migrate", "--noinput"))  # recognised: Alembic ran it
        assert "in sync" in ok(manage("alembic", "check"))
        assert "No new upgrade operations detected." in ok(alembic("check"))
    assert [r[0] for r in db.log() if r[2] == "notes"] == ["adopt", "adopt"]
    assert db.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'notes' "
                    "ORDER BY ordinal_position") == [("id",), ("title",), ("body",), ("slug",)]
