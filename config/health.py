"""GET /healthz: 200 when the database answers, 503 within ~2 s when it does not."""

import time

import psycopg
from django.conf import settings
from django.http import JsonResponse

from config.dbcheck import direct_params, first_line

TIMEOUT_SECONDS = 2


def database_status():
    """Probe with a fresh short-timeout connection: a pooled one would wait for the pool's own timeout."""
    params = direct_params(settings.DATABASES["default"], connect_timeout=TIMEOUT_SECONDS,
                           options=f"-c statement_timeout={TIMEOUT_SECONDS * 1000}")
    try:
        with psycopg.connect(**params) as conn:
            conn.execute("SELECT 1")
        return "ok", None
    except psycopg.Error as exc:
        return "unreachable", first_line(exc)


def healthz(request):
    started = time.monotonic()
    status, reason = database_status()
    body = {"status": "ok" if status == "ok" else "error", "database": status,
            "duration_ms": round((time.monotonic() - started) * 1000, 1)}
    if reason:
        body["reason"] = reason
    return JsonResponse(body, status=200 if status == "ok" else 503)
