"""Restore a backup file into a database in one transaction: all of it or nothing.

custom/directory: pg_restore --single-transaction --exit-on-error; plain: psql -1 -v ON_ERROR_STOP=1 -X.
Encrypted files are decrypted on the fly into the tool's stdin; if decryption fails midway the tool is killed
before it can commit, so the target keeps its previous contents.
"""

import subprocess
import tempfile
from pathlib import Path

from dbtools.backups import crypto, files
from dbtools.backups.dump import tool_error
from dbtools.backups.errors import BackupError
from dbtools.backups.tools import client_env, stop_process


def restore_argv(tools, fmt, target, source, clean):
    if fmt == "plain":
        return [tools.path("psql"), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "--no-password",
                f"--dbname={target}", f"--file={source}"]
    argv = [tools.path("pg_restore"), "--single-transaction", "--exit-on-error", "--no-password",
            f"--dbname={target}"]
    if clean:
        argv += ["--clean", "--if-exists"]  # replace the objects the backup holds, in the same transaction
    return argv + ([source] if source != "-" else [])


def _feed(proc, path, secret):
    """Pipe decrypted chunks into the tool; on a decryption error kill it before it can commit."""
    try:
        with open(path, "rb") as handle:
            for chunk in crypto.decrypt_chunks(handle, secret):
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


def run_restore(tools, path, fmt, target, *, encrypted, secret, clean):
    """Restore `path` into database `target`; BackupError with one line if anything fails."""
    path = Path(path)
    tool = "psql" if fmt == "plain" else "pg_restore"
    source = "-" if encrypted else str(path)
    argv = restore_argv(tools, fmt, target, source, clean)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if encrypted else subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=errors, env=client_env(target))
        try:
            if encrypted:
                _feed(proc, path, secret)
            returncode = proc.wait()
        finally:
            stop_process(proc)
        errors.seek(0)
        text = errors.read().decode(errors="replace")
    if returncode != 0:
        raise BackupError(tool_error(tool, returncode, _psql_error(text) if tool == "psql" else text))


def _psql_error(text):
    lines = [line for line in text.splitlines() if "ERROR:" in line or "FATAL:" in line]
    return lines[0].split("ERROR:", 1)[-1].strip() if lines else text


def describe(path):
    """(format, encrypted) of a backup, from its manifest or its first bytes."""
    manifest = files.read_manifest(path)
    if manifest.get("format"):
        return manifest["format"], bool(manifest.get("encrypted"))
    if crypto.is_encrypted(path):
        raise BackupError(f"{path} is encrypted and has no manifest ({files.manifest_path(path).name}), "
                          "so its format is unknown")
    return files.detect_format(path), False
