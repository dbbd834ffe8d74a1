"""The commands the docs give work as written after `make run` (issue 18): nothing is on PATH but the system's
python3, so every manage.py and alembic command goes through .venv/bin or make, and names a real command."""

import re
import subprocess
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A command line a reader would copy: start of a line or of inline code, optionally after `$ `.
BARE = re.compile(r"(?:^|`|\$ |\$\()(python3? manage\.py|alembic -c)", re.M)
NAMED = re.compile(r"(?:\.venv/bin/python|/srv/pgdeck/\.venv/bin/python|web python) manage\.py ([a-z_]+)")


def test_no_doc_gives_a_command_that_is_not_on_path():
    bare = [f"{path.name}: {match.group(0)}" for path in DOCS for match in BARE.finditer(path.read_text())]
    assert not bare


def test_every_manage_py_command_in_the_docs_exists():
    named = {(path.name, name) for path in DOCS for name in NAMED.findall(path.read_text())}
    assert len(named) > 10  # the pattern finds the docs' commands
    commands = set(get_commands())
    assert sorted(item for item in named if item[1] not in commands) == []


def test_make_manage_and_make_alembic_run_commands():
    result = subprocess.run(["make", "--no-print-directory", "-n", "manage", "alembic", "ARGS=current"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    assert ".venv/bin/python manage.py current" in result.stdout
    assert ".venv/bin/python manage.py alembic current" in result.stdout
