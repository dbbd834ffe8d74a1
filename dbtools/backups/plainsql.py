"""Plain SQL on its way to psql: psql meta-commands are refused, and psql runs in `\\restrict` mode anyway.

Two layers, because a scanner is a parser and parsers may classify, never guard:
- this scanner reads the dump line by line, knows COPY … FROM stdin data blocks (which end at `\\.`), and
  refuses any other line that starts with a backslash (`\\!`, `\\copy`, `\\o |cmd`, `\\i` …) with a one-line
  error before psql starts — the clear refusal;
- psql itself is put in restricted mode by a first line `\\restrict <random key>` that the file cannot know,
  and never leaves it: psql then refuses every meta-command wherever it hides (mid-line, after a quote the
  scanner misread). The dump's own `\\restrict`/`\\unrestrict` lines (pg_dump ≥ 17.6) are dropped, ours rule.
What SQL may do is then up to PostgreSQL and the restore role (restore_role.py): no COPY … PROGRAM.

A few single-line statements of pg_dump's are dropped because the non-owner restore role cannot run them and
they do not change the data: ownership (`ALTER … OWNER TO`), default privileges, and extension DROP/COMMENT
(the extensions themselves are created by pgdeck in the scratch database from the live database's list).
"""

import re
import secrets

from dbtools.backups.errors import BackupError

OWN_RESTRICT = re.compile(rb"^\\(un)?restrict [A-Za-z0-9]+$")
COPY_FROM_STDIN = re.compile(rb"^COPY .+ FROM stdin;$")
DROPPED = re.compile(rb"^(ALTER [A-Z ]+ .+ OWNER TO [^;]+;|ALTER DEFAULT PRIVILEGES .+;|"
                     rb"COMMENT ON EXTENSION .+;|DROP EXTENSION .+;)$")


def restrict_key():
    return secrets.token_hex(16)


def _lines(chunks):
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending


def scan(chunks, key=None):
    """Yield the bytes psql may read (with `\\restrict key` first when a key is given); BackupError on a
    meta-command line outside COPY data."""
    if key:
        yield b"\\restrict " + key.encode() + b"\n"
    in_copy = False
    for number, line in enumerate(_lines(chunks), start=1):
        text = line.rstrip(b"\r\n")
        if in_copy:
            in_copy = text != b"\\."
            yield line
            continue
        if text.lstrip().startswith(b"\\"):
            if OWN_RESTRICT.match(text):
                continue
            shown = text.lstrip()[:40].decode(errors="replace")
            raise BackupError(f"refused: line {number} is a psql meta-command ({shown}); pgdeck never lets "
                              "a backup run psql commands", code="meta_command")
        if COPY_FROM_STDIN.match(text):
            in_copy = True
        elif DROPPED.match(text):
            continue
        yield line


def check(chunks):
    """Read everything through the scanner without running anything (the refusal comes before any change)."""
    for _ in scan(chunks):
        pass
