"""Run a backup into a database in one transaction, as the restore role: all of it or nothing.

custom: pg_restore --single-transaction --exit-on-error --no-owner --no-privileges, fed on stdin;
directory: the same with the folder's path; plain: psql -1 -v ON_ERROR_STOP=1 -X, fed on stdin through the
meta-command scanner under `\\restrict` (plainsql.py). The tool logs in as the restore role (restore_role.py).
Every file is read through the handle whose bytes were checked against the recorded checksum (trust.py).
Encrypted files are decrypted on the fly; if decryption or the scanner fails midway the tool is killed before
it can commit, so the target keeps its previous contents.
"""

import subprocess
import tempfile
from functools import lru_cache

from dbtools.backups import crypto, plainsql
from dbtools.backups.dump import tool_error
from dbtools.backups.errors import BackupError
from dbtools.backups.tools import client_env, stop_process

CHUNK = 1 << 20


def restore_argv(tools, fmt, target, directory=None):
    """Always into a database made for the restore (new or scratch): nothing to clean first."""
    if fmt == "plain":
        return [tools.path("psql"), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "--no-password",
                f"--dbname={target}", "--file=-"]
    argv = [tools.path("pg_restore"), "--single-transaction", "--exit-on-error", "--no-password",
            "--no-owner", "--no-privileges", "--no-comments", f"--dbname={target}"]
    return argv + ([str(directory)] if directory else [])


@lru_cache(maxsize=8)
def psql_restricts(psql):
    """Whether this psql has `\\restrict` (13.22, 14.19, 15.14, 16.10, 17.6, 18 and newer)."""
    try:
        out = subprocess.run([psql, "--help=commands"], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return False
    return "\\restrict" in out.stdout


def plain_chunks(handle, encrypted, secret):
    """The file's bytes (decrypted when encrypted), chunk by chunk."""
    if encrypted:
        yield from crypto.decrypt_chunks(handle, secret)
        return
    while chunk := handle.read(CHUNK):
        yield chunk


def _feed(proc, chunks):
    """Pipe chunks into the tool; on our own error (decryption, scanner) kill it before it can commit."""
    try:
        for chunk in chunks:
            proc.stdin.write(chunk)
    except BackupError:
        stop_process(proc)
        raise
    except BrokenPipeError:
        pass  # the tool stopped early: its own error message says why
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass


def run_restore(tools, source, fmt, target, *, login, encrypted=False, secret=""):
    """Restore `source` (a checked open file, or a directory path) into `target` as `login`; BackupError with
    one line if anything fails."""
    tool = "psql" if fmt == "plain" else "pg_restore"
    directory = source if fmt == "directory" else None
    argv = restore_argv(tools, fmt, target, directory)
    env = {**client_env(target, target=login.target), "PGUSER": login.user, "PGPASSWORD": login.password}
    if fmt == "plain" and not psql_restricts(argv[0]):
        raise BackupError(f"{argv[0]} cannot enter restricted mode (\\restrict): install client tools of "
                          "13.22, 14.19, 15.14, 16.10, 17.6 or newer to restore plain SQL")
    if directory is None:
        source.seek(0)
        chunks = plain_chunks(source, encrypted, secret)
        if fmt == "plain":
            chunks = plainsql.scan(chunks, key=plainsql.restrict_key())
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if directory is None else subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=errors, env=env)
        try:
            if directory is None:
                _feed(proc, chunks)
            returncode = proc.wait()
        finally:
            stop_process(proc)
        errors.seek(0)
        text = errors.read().decode(errors="replace")
    if returncode != 0:
        raise BackupError(tool_error(tool, returncode, _psql_error(text) if tool == "psql" else text))


def _psql_error(text):
    lines = [line for line in text.splitlines() if "ERROR:" in line or "FATAL:" in line or "invalid command" in line]
    return lines[0].split("ERROR:", 1)[-1].strip() if lines else text


def prescan(source, fmt, encrypted, secret):
    """For plain SQL: refuse meta-commands before anything is created or started."""
    if fmt == "plain":
        source.seek(0)
        plainsql.check(plain_chunks(source, encrypted, secret))
        source.seek(0)
