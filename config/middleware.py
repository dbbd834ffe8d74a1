"""Answer 503 with a clear message, instead of a 500, while the database cannot be reached."""

import logging

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.template.response import TemplateResponse
from psycopg_pool import PoolTimeout

logger = logging.getLogger("pgdeck.database")

UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, psycopg.OperationalError)


def is_unavailable(exc):
    if isinstance(exc, UNAVAILABLE):
        return True
    return isinstance(exc, DatabaseError) and isinstance(exc.__cause__, UNAVAILABLE)


def unavailable_response(request):
    message = "The database is unavailable right now; try again in a moment."
    if request.path.startswith("/api/") or request.path.startswith("/healthz"):
        response = JsonResponse({"error": {"code": "database_unavailable", "message": message}}, status=503)
    else:
        response = TemplateResponse(request, "503.html", {"message": message}, status=503)
    response["Retry-After"] = "5"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_unavailable(exception):
            return None
        logger.warning("database unavailable: %s", str(exception).splitlines()[0] if str(exception) else exception)
        return unavailable_response(request)
