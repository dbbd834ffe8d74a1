"""`make fuzz`: schemathesis with every check against a live gunicorn, over HTTP, for a time budget.

A throwaway database (migrated, the query roles set up, a few blog rows), an admin with an API key, gunicorn on
127.0.0.1 (tests/api/fuzz_wsgi.py) and `st run --checks all` over /api/schema/ with that key. Every phase runs
(examples, coverage, fuzzing, stateful) until FUZZ_SECONDS is spent. Exit code 0 only when no check failed and
at least FUZZ_MIN_CASES test cases ran. tests/api/test_fuzz.py runs the same in-process with a short budget.

    make fuzz   (or: FUZZ_SECONDS=900 FUZZ_MIN_CASES=10000 .venv/bin/python -m tests.api.live_fuzz)
"""

import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("FUZZ_SECONDS", "900"))
MIN_CASES = int(os.environ.get("FUZZ_MIN_CASES", "10000"))
SEED = os.environ.get("FUZZ_SEED", "")
WORKERS = int(os.environ.get("FUZZ_GUNICORN_WORKERS", "2"))
# More than 2 schemathesis workers met a thread-safety bug of hypothesis's lambda descriptions (a KeyError).
ST_WORKERS = os.environ.get("FUZZ_WORKERS", "2")
REPORTS = ROOT / "test-results" / "fuzz"


def _prepare():
    """Query roles, a few blog rows, an admin and its key (committed: gunicorn reads them)."""
    from django.core.management import call_command

    from accounts.services import api_key_create
    from tests.factories import PostFactory, UserFactory

    call_command("setup_query_role", stdout=io.StringIO())
    PostFactory.create_batch(5)
    admin = UserFactory(username="fuzz-admin", role="admin", is_superuser=True)
    _key, plaintext = api_key_create(user=admin, name="fuzz", scopes=None)
    return plaintext


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_gunicorn(database_name, backup_dir):
    import requests

    port = _free_port()
    env = {**os.environ, "FUZZ_DATABASE": database_name, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "BACKUP_DIR": str(backup_dir), "BACKUP_ENCRYPTION_KEY": "fuzz-only-key"}
    argv = [sys.executable, "-m", "gunicorn", "tests.api.fuzz_wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(WORKERS), "--timeout", "120", "--log-level", "warning",
            # gunicorn answers a request line over 4,094 bytes with its own HTML 414 before the app sees it: a limit
            # of the front server (nginx's differs), not of the API this run checks. Unlimited here, so long query
            # strings reach the app's own validation (docs/api.md, "Conformance").
            "--limit-request-line", "0"]
    REPORTS.mkdir(parents=True, exist_ok=True)
    log = open(REPORTS / "gunicorn.log", "w")  # noqa: SIM115 - closed below; the server's 4xx warnings go here
    server = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(base + "/api/v1/health", timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def st_argv(base, plaintext, report_dir):
    argv = [str(Path(sys.executable).with_name("st")), "run", f"{base}/api/schema/?format=json",
            "--checks", "all", "--max-time", str(SECONDS), "--workers", ST_WORKERS,
            "-H", f"Authorization: Bearer {plaintext}", "--request-timeout", "60",
            "--suppress-health-check", "all", "--continue-on-failure",
            "--report", "junit", "--report-dir", str(report_dir)]
    return argv + (["--seed", SEED] if SEED else [])


def cases_run(output):
    """The number of test cases schemathesis reports ("Test cases: 12737 generated, …")."""
    found = re.search(r"Test cases:\s*([\d,]+) generated", output)
    return int(found.group(1).replace(",", "")) if found else 0


def run():
    from bench.common import bench_database

    with bench_database("fuzz_pgdeck"), tempfile.TemporaryDirectory(prefix="pgdeck-fuzz-") as scratch:
        from django.db import connection

        plaintext = _prepare()
        connection.close()  # the server's workers hold their own connections
        with live_gunicorn(connection.settings_dict["NAME"], Path(scratch) / "backups") as base:
            (Path(scratch) / "backups").mkdir(exist_ok=True)
            env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks", "PYTHONPATH": str(ROOT)}
            result = subprocess.run(st_argv(base, plaintext, REPORTS), env=env, cwd=ROOT,
                                    capture_output=True, text=True)
    output = result.stdout + result.stderr
    print(output)
    cases = cases_run(output)
    if result.returncode != 0:
        return f"schemathesis found failures (exit code {result.returncode}); see above"
    if cases < MIN_CASES:
        return f"only {cases} test cases ran in {SECONDS} s; at least {MIN_CASES} needed (raise FUZZ_SECONDS)"
    print(f"make fuzz: {cases} test cases, every check passed")
    return None


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    sys.exit(run())
