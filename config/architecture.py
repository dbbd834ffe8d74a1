"""The layers picture in docs/architecture.md, drawn from the import-linter contracts in pyproject.toml.

`make architecture` rewrites the block between the markers; tests/test_architecture_docs.py fails when the
contracts changed and the picture did not. `python -m config.architecture --check` says the same."""

import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
START, END = "<!-- contracts:start (make architecture) -->", "<!-- contracts:end -->"
WIDTH = 116


def contracts(pyproject=ROOT / "pyproject.toml"):
    config = tomllib.loads(Path(pyproject).read_text())["tool"]["importlinter"]
    return config["root_packages"], config["contracts"]


def layers(packages, rules):
    """Top first: lists of root packages. "A may not import B" puts A below B; a package no contract names is
    on top (it may import anything)."""
    below = {package: set() for package in packages}  # package → the packages it must stay under
    for rule in rules:
        for source in rule["source_modules"]:
            if source in below:
                below[source] |= {m for m in rule["forbidden_modules"] if m in below}
    # Two packages that forbid each other (targets, blog) sit side by side, not one over the other.
    below = {package: {other for other in over if package not in below[other]} for package, over in below.items()}
    rank = {}

    def rank_of(package):
        if package not in rank:
            lower = [other for other in packages if package in below[other]]
            rank[package] = 1 + max((rank_of(other) for other in lower), default=-1)
        return rank[package]

    constrained = {p for p in packages if below[p] or any(p in below[o] for o in packages)}
    ranks = {p: rank_of(p) for p in constrained}
    top = max(ranks.values(), default=0) + 1
    ranks.update({p: top for p in packages if p not in constrained})
    return [sorted(p for p in packages if ranks[p] == level) for level in range(top, -1, -1)
            if any(ranks[p] == level for p in packages)]


def _wrapped(text, indent):
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def render(pyproject=ROOT / "pyproject.toml"):
    packages, rules = contracts(pyproject)
    rows = layers(packages, rules)
    width = max(len("   ".join(row)) for row in rows) + 4
    lines = []
    for index, row in enumerate(rows):
        lines.append("┌" + "─" * width + "┐")
        lines.append("│" + "   ".join(row).center(width) + "│")
        lines.append("└" + "─" * width + "┘")
        if index < len(rows) - 1:
            lines.append("│".center(width + 2).rstrip() + "   imports only downward")
            lines.append("▼".center(width + 2).rstrip())
    lines.append("")
    for rule in rules:
        lines.append(f"✗ {rule['name']}" + (" (also indirectly)" if rule.get("allow_indirect_imports") is False
                                            else ""))
        lines += _wrapped("from: " + ", ".join(rule["source_modules"]), "    ")
        lines += _wrapped("never: " + ", ".join(rule["forbidden_modules"]), "    ")
    return "\n".join(["```", *lines, "```"])


def block(text):
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip("\n")


def write(doc=DOC):
    text = doc.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    doc.write_text(text[:start] + "\n" + render() + "\n" + text[end:])


if __name__ == "__main__":
    if "--check" in sys.argv:
        if block(DOC.read_text()) != render():
            sys.exit("docs/architecture.md: the layers picture is out of date; run `make architecture`")
    else:
        write()
        print(f"wrote the layers picture in {DOC.relative_to(ROOT)}")
