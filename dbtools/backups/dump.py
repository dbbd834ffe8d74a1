"""Run pg_dump into `<name>.partial`, hashing (and optionally encrypting) the stream, and rename on success only.

The snapshot of tables and row counts is read in a REPEATABLE READ transaction whose snapshot pg_dump imports
(pg_export_snapshot + pg_dump --snapshot), so the counts describe exactly the data in the dump. Counting runs
in a thread on that transaction while pg_dump streams, so it adds no wall-clock time on large databases.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from dbtools.backups import catalog, files, trust
from dbtools.backups.crypto import CHUNK, Encryptor
from dbtools.backups.errors import BackupError
from dbtools.backups.tools import client_env, connect, select_tools, stop_process

PROGRESS_EVERY = 0.5


@dataclass
class DumpPlan:
    path: Path
    dbname: str
    fmt: str = "custom"
    schema_only: bool = False
    tables: list = field(default_factory=list)
    secret: str = ""
    jobs: int = 2
    lock_wait_ms: int = 60000
    with_private: bool = True  # False: the rows of private tables are left out (a non-admin's backup)
    target: str = "default"  # the registered target dumped (targets.seam gives its connection)


@dataclass
class DumpResult:
    path: Path
    size: int
    checksum: str
    manifest: dict


def _quote(name):
    return '"' + name.replace('"', '""') + '"'


def dump_argv(tools, plan, snapshot_id, partial, tables, excluded=()):
    argv = [tools.path("pg_dump"), f"--format={plan.fmt}", "--no-password", f"--snapshot={snapshot_id}",
            f"--lock-wait-timeout={plan.lock_wait_ms}"]
    if plan.fmt == "plain":
        argv += ["--clean", "--if-exists"]  # a plain dump replaces what it contains when restored over a database
    if plan.schema_only:
        argv.append("--schema-only")
    if plan.tables:
        argv += [f"--table={_quote(schema)}.{_quote(table)}" for schema, table in tables]
    argv += [f"--exclude-table-data={_quote(schema)}.{_quote(table)}" for schema, table in excluded]
    if plan.fmt == "directory":
        argv += [f"--jobs={plan.jobs}", f"--file={partial}"]
    return argv


def tool_error(tool, returncode, stderr_text):
    if returncode < 0:
        return f"{tool} was killed by signal {-returncode}"
    lines = [line.strip() for line in stderr_text.splitlines() if line.strip()]
    if "Query was: LOCK TABLE" in stderr_text:
        return f"{tool} failed: a table stayed locked by another session longer than BACKUP_LOCK_WAIT_TIMEOUT"
    errors = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()] or lines
    message = errors[0] if errors else f"exit status {returncode}"
    return f"{tool} failed: {message.removeprefix(f'{tool}: ').removeprefix('error: ')}"


class _Counter(threading.Thread):
    def __init__(self, conn, tables):
        super().__init__(daemon=True)
        self.conn, self.tables, self.counts, self.error = conn, tables, {}, None

    def run(self):
        try:
            self.counts = catalog.row_counts(self.conn, self.tables)
        except Exception as exc:  # reported by the caller as a one-line error
            self.error = exc


def _stream(proc, partial, secret, progress):
    digest, size = hashlib.sha256(), 0
    encryptor = Encryptor(secret) if secret else None
    with files.private_open(partial) as out:
        def emit(data):
            nonlocal size
            out.write(data)
            digest.update(data)
            size += len(data)

        if encryptor:
            emit(encryptor.header)
        while chunk := proc.stdout.read1(CHUNK):  # whatever is there: timely progress
            emit(encryptor.update(chunk) if encryptor else chunk)
            progress(size)
        if encryptor:
            emit(encryptor.finalize())
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def _wait_directory(proc, partial, progress):
    while True:
        try:
            proc.wait(timeout=PROGRESS_EVERY)
            return
        except subprocess.TimeoutExpired:
            progress(files.disk_size(partial))


def _throttled(on_progress):
    last = [0.0]

    def progress(size):
        now = time.monotonic()
        if on_progress and now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            on_progress(size)

    return progress


def _run_pg_dump(argv, plan, partial, progress):
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE if plan.fmt != "directory" else subprocess.DEVNULL,
                                stderr=errors, env=client_env(plan.dbname, target=plan.target))
        try:
            if plan.fmt == "directory":
                _wait_directory(proc, partial, progress)
                size, digest = None, None
            else:
                size, digest = _stream(proc, partial, plan.secret, progress)
            returncode = proc.wait()
        finally:
            stop_process(proc)
        errors.seek(0)
        if returncode != 0:
            raise BackupError(tool_error("pg_dump", returncode, errors.read().decode(errors="replace")))
    if plan.fmt == "directory":
        files.seal_modes(partial)
        size, digest = files.disk_size(partial), files.directory_checksum(partial)
    return size, digest


def run_dump(plan, on_progress=None):
    """Dump `plan.dbname` to plan.path; on any failure nothing is left under the final name."""
    if plan.secret and plan.fmt == "directory":
        raise BackupError("encryption is streamed and needs --format custom or plain, not directory")
    partial = files.partial_path(plan.path)
    conn = connect(plan.dbname, autocommit=False, target=plan.target)
    try:
        server_num = conn.info.server_version
        tools = select_tools(server_num)
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # the snapshot pg_dump will share
        conn.read_only = True
        # One core for the counts: parallel workers would compete with pg_dump for the same CPUs.
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        # Neither pg_dump nor the counts wait forever behind a lock (e.g. a migration's ACCESS EXCLUSIVE).
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{plan.lock_wait_ms}ms")))
        snapshot_id = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        every = catalog.table_list(conn)
        tables = catalog.resolve_tables(conn, plan.tables) if plan.tables else every
        private = [t for t in catalog.private_tables(conn, every) if t in tables]
        excluded = [] if plan.with_private or plan.schema_only else private
        counter = _Counter(conn, [] if plan.schema_only else [t for t in tables if t not in excluded])
        counter.start()
        try:
            size, digest = _run_pg_dump(dump_argv(tools, plan, snapshot_id, partial, tables, excluded), plan,
                                        partial, _throttled(on_progress))
        finally:
            counter.join()
        if on_progress:
            on_progress(size)  # the final figure, whatever the throttle let through
        if counter.error:
            raise BackupError(f"counting rows for the snapshot failed: {counter.error}")
        counts = {catalog.qualified(s, t): counter.counts.get(catalog.qualified(s, t), 0) for s, t in tables}
        manifest = _manifest(plan, server_num, tools, digest, size, counts, (private, excluded),
                             catalog.extensions(conn))
        files.write_sidecars(plan.path, digest, manifest)
        os.replace(partial, plan.path)
        return DumpResult(plan.path, size, digest, manifest)
    except BaseException:
        _discard(plan.path, partial)
        raise
    finally:
        conn.close()


def _manifest(plan, server_num, tools, digest, size, counts, private_excluded, extensions):
    """What the dump holds, signed (trust.py): the snapshot, whether private rows are in it, its extensions."""
    private, excluded = private_excluded
    return trust.sign({
        "format": plan.fmt, "encrypted": bool(plan.secret), "database": plan.dbname, "target": plan.target,
        "schema_only": plan.schema_only, "server_version_num": server_num, "pg_dump_major": tools.major,
        "checksum": digest, "size": size, "tables": counts, "snapshot_consistent": True,
        "private_data": bool(private) and not excluded and not plan.schema_only,
        "excluded_data": [catalog.qualified(s, t) for s, t in excluded], "table_selection": bool(plan.tables),
        "extensions": extensions,
    })


def _discard(path, partial):
    if partial.is_dir():
        shutil.rmtree(partial, ignore_errors=True)
    elif partial.exists():
        partial.unlink()
    for companion in (files.sidecar_path(path), files.manifest_path(path)):
        if companion.exists():
            companion.unlink()
