"""Every environment variable the settings read is documented in docs/configuration.md and .env.example."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READ = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def variables_read():
    names = set()
    for path in (ROOT / "config").rglob("*.py"):
        names |= set(READ.findall(path.read_text()))
    return names


def test_settings_read_a_plausible_number_of_variables():
    assert {"DATABASE_URL", "DB_POOL_SIZE", "REDIS_URL", "QUERY_EDITOR_TIMEOUT"} <= variables_read()


def test_every_variable_is_documented():
    docs = (ROOT / "docs" / "configuration.md").read_text()
    example = (ROOT / ".env.example").read_text()
    missing_docs = sorted(name for name in variables_read() if f"`{name}`" not in docs)
    missing_example = sorted(name for name in variables_read() if f"{name}=" not in example)
    assert not missing_docs, f"not in docs/configuration.md: {missing_docs}"
    assert not missing_example, f"not in .env.example: {missing_example}"
