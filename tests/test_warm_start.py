"""Issue 18, `make run` warm start (bench/warm_start.py measures it): what each start-up no longer does."""

import os
import signal
import subprocess
import sys
import tempfile

import pytest

from tests.servers import ROOT, MakeRun, free_port

sys.path.insert(0, str(ROOT))
from manage import is_reloader_parent  # noqa: E402


@pytest.mark.parametrize(("argv", "env", "parent"), [
    (["manage.py", "runserver"], {}, True),
    (["manage.py", "runserver", "--skip-checks", "127.0.0.1:8001"], {}, True),
    (["manage.py", "runserver"], {"RUN_MAIN": "true"}, False),  # the child: sets Django up and serves
    (["manage.py", "runserver", "--noreload"], {}, False),
    (["manage.py", "runserver", "--help"], {}, False),
    (["manage.py", "migrate"], {}, False),
])
def test_only_the_autoreloaders_parent_skips_django(monkeypatch, argv, env, parent):
    monkeypatch.delenv("RUN_MAIN", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert is_reloader_parent(argv) is parent


def _runserver(settings, *args):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "RUN_MAIN")}
    env.update(DJANGO_SETTINGS_MODULE=settings, PYTHONUNBUFFERED="1")
    output = tempfile.TemporaryFile("w+")
    process = subprocess.Popen([sys.executable, "manage.py", "runserver", *args, f"127.0.0.1:{port}"], cwd=ROOT,
                               env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    server = MakeRun.__new__(MakeRun)  # reuse its polling and its group kill
    server.process, server.output, server.url = process, output, f"http://127.0.0.1:{port}/admin/login/"
    import time

    server.started = time.monotonic()
    return server


def test_runserver_with_autoreload_sets_django_up_once_and_serves():
    server = _runserver("tests.settings_counting", "--skip-checks")
    try:
        assert server.serves_login_page(timeout=120), server.text()
    finally:
        server.kill(signal.SIGINT)
    loaded = [line for line in server.text().splitlines() if line.startswith("pgdeck-settings-loaded")]
    assert len(loaded) == 1, server.text()  # the child only; Django's own parent loads them too (2)
    assert str(server.process.pid) not in loaded[0]


def test_a_bad_setting_under_autoreload_is_one_line_and_the_childs_exit_code():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "RUN_MAIN")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL="mysql://nope@127.0.0.1/x")
    result = subprocess.run([sys.executable, "manage.py", "runserver", f"127.0.0.1:{free_port()}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr, result.stderr


def test_setting_django_up_imports_neither_the_api_toolkit_nor_the_job_bodies():
    heavy = ("rest_framework.fields", "drf_spectacular.plumbing", "pglast", "jobs.bodies", "sqlalchemy", "alembic")
    code = ("import sys, django; django.setup(); "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == ""
