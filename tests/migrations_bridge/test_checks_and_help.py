"""`manage.py check` guards the revision map; `manage.py alembic` subcommands have help and in-process behaviour."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import override_settings

from tests.migrations_bridge.conftest import ROOT

VARIANTS = "tests.migrations_bridge.variants"


def test_check_passes_on_the_shipped_map():
    call_command("check", stdout=StringIO())


@pytest.mark.parametrize("variant, message", [
    ("unpaired", "pgdeck.alembic.E001) Django migration blog.0002_create_posts_table of mirrored app 'blog' has no "
                 "Alembic pair"),
    ("duplicate", "pgdeck.alembic.E002) Alembic revision 'abc123' is paired with 2 migrations"),
    ("toolong", "pgdeck.alembic.E003) Alembic revision '" + "r" * 33 + "' of blog.0002_create_posts_table is "
                "longer than 32"),
])
def test_check_fails_on_a_broken_map(variant, message):
    with override_settings(MIGRATION_MODULES={"blog": f"{VARIANTS}.{variant}"}):
        with pytest.raises(SystemCheckError) as error:
            call_command("check", stdout=StringIO(), stderr=StringIO())
    assert message in str(error.value)


@pytest.fixture
def two_heads(tmp_path, settings):
    """pgdeck's scripts plus ghi789, a second branch from abc123 that no Django migration pairs with."""
    versions = tmp_path / "versions"
    versions.mkdir()
    for path in (ROOT / "dbtools" / "alembic" / "versions").glob("*.py"):
        (versions / path.name).write_text(path.read_text())
    (versions / "003_ghi789_branch.py").write_text(
        'revision = "ghi789"\ndown_revision = "abc123"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n")
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = {tmp_path}\nprepend_sys_path = {ROOT}\npath_separator = os\n")
    settings.ALEMBIC_CONFIG = str(tmp_path / "alembic.ini")


def test_check_fails_on_a_second_alembic_head(two_heads):
    with pytest.raises(SystemCheckError) as error:
        call_command("check", stdout=StringIO(), stderr=StringIO())
    assert "pgdeck.alembic.E005) Alembic has 2 heads (def456, ghi789)" in str(error.value)
    assert "pgdeck.alembic.W007) Alembic revision 'ghi789' is paired with no Django migration" in str(error.value)


@pytest.mark.django_db
def test_alembic_check_exits_1_on_multiple_heads(two_heads):
    err = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("alembic", "check", stdout=StringIO(), stderr=err)
    assert str(error.value).startswith("4 problem(s): pgdeck.alembic.E005: Alembic has 2 heads")
    assert "drift: Alembic has 2 heads (def456, ghi789); merge them." in err.getvalue()


@pytest.mark.django_db
def test_unmigrated_model_change_is_drift():
    with override_settings(MIGRATION_MODULES={"blog": f"{VARIANTS}.modelchange"}):
        with pytest.raises(CommandError) as error:
            call_command("alembic", "check", stdout=StringIO(), stderr=StringIO())
    assert "Models of 'blog' have changes with no migration: run `manage.py makemigrations blog`" in str(error.value)


@pytest.mark.django_db
def test_current_and_history_on_the_test_database():
    out = StringIO()
    call_command("alembic", "current", stdout=out)
    assert out.getvalue().splitlines() == ["def456 (head) <-> blog.0002_create_posts_table", "in sync with Django"]
    out = StringIO()
    call_command("alembic", "history", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1].split()[:6] == ["def456", "blog.0002_create_posts_table", "[X]", "[X]", "(head)", "(current)"]
    assert lines[2].split()[:4] == ["abc123", "blog.0001_create_users_table", "[X]", "[X]"]
    assert lines[-1] == "<base>"
    out = StringIO()
    call_command("alembic", "heads", stdout=out)
    assert out.getvalue().strip() == "def456 (alembic head) <-> blog.0002_create_posts_table"


@pytest.mark.parametrize("sub", ["current", "history", "heads", "upgrade", "downgrade", "stamp", "check", "sync",
                                 "adopt", "pair"])
def test_every_subcommand_has_help(sub, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("alembic", sub, "--help")
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "--database" in text and "--user" in text


@pytest.mark.django_db
def test_a_move_while_another_runs_is_refused(settings):
    import psycopg
    from django.db import connection

    from dbtools.migrations_bridge.catalog import conninfo_for
    from dbtools.migrations_bridge.lock import MIGRATION_LOCK_KEY

    settings.MIGRATION_LOCK_TIMEOUT = 1

    with psycopg.connect(conninfo_for(connection.settings_dict), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        with pytest.raises(CommandError, match="another migration held the migration lock .* for 1 s; nothing was "
                                               "changed"):
            call_command("alembic", "downgrade", "base", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.posts') IS NOT NULL")
        assert cursor.fetchone()[0]


@pytest.fixture
def alembic_only(tmp_path, settings):
    """pgdeck's scripts plus ghi789 on top of def456 (linear), which no Django migration pairs with."""
    versions = tmp_path / "versions"
    versions.mkdir()
    for path in (ROOT / "dbtools" / "alembic" / "versions").glob("*.py"):
        (versions / path.name).write_text(path.read_text())
    (versions / "003_ghi789_slug.py").write_text(
        '"""Add a slug"""\nrevision = "ghi789"\ndown_revision = "def456"\nbranch_labels = None\n'
        "depends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n")
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = {tmp_path}\nprepend_sys_path = {ROOT}\npath_separator = os\n")
    settings.ALEMBIC_CONFIG = str(tmp_path / "alembic.ini")


def test_alembic_only_revision_shows_in_the_screen_and_the_api(alembic_only, client_for):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE alembic_version SET version_num = 'ghi789'")
    call_command("check", stdout=StringIO(), stderr=StringIO())  # a warning: the console starts
    client = client_for("analyst")
    html = client.get("/admin/dbtools/migrations/").content.decode()
    assert 'id="alembic-only-ghi789"' in html and "manage.py alembic pair ghi789" in html
    body = client.get("/api/v1/migrations").json()
    assert body["alembic"]["script_heads"] == ["ghi789"] and body["in_sync"] is False
    assert body["alembic_only"] == [{"revision": "ghi789", "down_revision": "def456", "doc": "Add a slug",
                                     "in_alembic": True}]
    assert any("pair ghi789" in message for message in body["drift"])
