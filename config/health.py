"""GET /healthz: 200 when the database answers, 503 within ~2 s when it does not."""

import time

import psycopg
from django.conf import settings
from django.http import JsonResponse

from config.dbcheck import first_line

TIMEOUT_SECONDS = 2


def database_status():
    """Probe with a fresh short-timeout connection: a pooled one would wait for the pool's own timeout."""
    fields = settings.DATABASES["default"]
    params = {
        "dbname": fields["NAME"], "user": fields.get("USER") or None, "password": fields.get("PASSWORD") or None,
        "host": fields.get("HOST") or None, "port": fields.get("PORT") or None, "connect_timeout": TIMEOUT_SECONDS,
        "options": f"-c statement_timeout={TIMEOUT_SECONDS * 1000}",
    }
    for key in ("sslmode", "sslrootcert"):
        if fields["OPTIONS"].get(key):
            params[key] = fields["OPTIONS"][key]
    try:
        with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
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
