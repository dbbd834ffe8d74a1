"""dbbackup vs bare pg_dump on the same 1M-row database, in one run (goal: ≤ 1.1× the time); verify apart.

Both dump the same scratch database with the same pg_dump binary in custom format. dbbackup additionally
exports a snapshot, counts rows in it (in a thread, while pg_dump runs), hashes the stream, writes the sidecar
and manifest and records a backups row.
"""

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

from bench.report import write_section
from dbtools.backups import services
from dbtools.backups.tools import client_env, connect, create_database, drop_database, select_tools

DB = "pgdeck_bench_backup"
ROWS = 1_000_000
ROUNDS = 5


def _seed():
    drop_database(DB)
    create_database(DB)
    with connect(DB) as conn:
        conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY, account int NOT NULL, kind text NOT NULL, "
                     "payload text, created_at timestamptz NOT NULL DEFAULT now())")
        conn.execute("INSERT INTO events (account, kind, payload) SELECT g %% 5000, 'kind-' || (g %% 17), "
                     "md5(g::text) FROM generate_series(1, %s) g", [ROWS])
        conn.execute("CREATE INDEX events_account ON events (account)")
        conn.execute("ANALYZE events")
        return conn.info.server_version


def _bare(tools, folder, n):
    target = folder / f"bare-{n}.dump"
    started = time.perf_counter()
    subprocess.run([tools.path("pg_dump"), "--format=custom", "--no-password", f"--file={target}"],
                   env=client_env(DB), check=True)
    return time.perf_counter() - started, target.stat().st_size


def _ours(encrypt=False):
    started = time.perf_counter()
    backup = services.backup_create(actor="bench", dbname=DB, encrypt=encrypt)
    return time.perf_counter() - started, backup


def _measure(tools, folder):
    bare, ours, backups = [], [], []
    for n in range(ROUNDS):  # alternate, so cache warmth favours neither side
        seconds, bare_size = _bare(tools, folder, n)
        bare.append(seconds)
        seconds, backup = _ours()
        ours.append(seconds)
        backups.append(backup)
    enc_seconds, enc_backup = _ours(encrypt=True)
    started = time.perf_counter()
    ok, result = services.backup_verify(actor="bench", backup=backups[-1])
    verify_seconds = time.perf_counter() - started
    for backup in backups + [enc_backup]:
        services.backup_delete(backup, actor="bench")
    return {"bare": statistics.median(bare), "ours": statistics.median(ours), "bare_size": bare_size,
            "our_size": backups[-1].size, "enc": enc_seconds, "verify": verify_seconds, "ok": ok, "result": result}


def run():
    call_command("migrate", verbosity=0)
    server = _seed()
    tools = select_tools(server)
    try:
        with tempfile.TemporaryDirectory() as tmp, override_settings(BACKUP_DIR=Path(tmp),
                                                                    BACKUP_ENCRYPTION_KEY="bench-key"):
            figures = _measure(tools, Path(tmp))
    finally:
        drop_database(DB)
    ratio = figures["ours"] / figures["bare"]
    rows = [
        ("bare `pg_dump -Fc -f file` (baseline)", figures["bare"], f"{figures['bare_size']:,} B"),
        ("`dbbackup` (snapshot + exact counts, SHA-256, sidecars, row)", figures["ours"], f"{figures['our_size']:,} B"),
        ("`dbbackup --encrypt` (AES-256-GCM, streamed)", figures["enc"], "–"),
        ("`--verify` (restore into a scratch database + exact counts), apart", figures["verify"], "–"),
    ]
    table = "\n".join(f"| {what} | {secs:.2f} | {size} | {secs / figures['bare']:.2f}× |" for what, secs, size in rows)
    body = f"""
{ROWS:,} rows (one table, 5 columns, one index) on PostgreSQL {server // 10000}, pg_dump {tools.major},
custom format; median of {ROUNDS} alternating runs.

| what | seconds | size | ratio to bare pg_dump |
| --- | ---: | ---: | ---: |
{table}

Goal ≤ 1.10×: {"met" if ratio <= 1.10 else "NOT met"}. Verify result: {figures['result']}.
Load average when the run ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine: figures are noisy).
"""
    write_section("backup", "Backups: dbbackup vs bare pg_dump", body)
    print(f"dbbackup {figures['ours']:.2f}s vs pg_dump {figures['bare']:.2f}s ({ratio:.2f}x); "
          f"verify {figures['verify']:.2f}s")
