import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy_with_zero_warnings(db):
    s = connection.settings_dict
    host = s["HOST"]
    url = (f"postgresql://{s['USER']}@/{s['NAME']}?host={host}&port={s['PORT']}" if host.startswith("/")
           else f"postgresql://{s['USER']}@{host}:{s['PORT']}/{s['NAME']}")
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}  # set by browser tests
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DATABASE_URL": url,
           "DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "API_KEY_PEPPER": secrets.token_urlsafe(32),
           "DJANGO_ALLOWED_HOSTS": "console.example.com",
           "DJANGO_CSRF_TRUSTED_ORIGINS": "https://console.example.com"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
