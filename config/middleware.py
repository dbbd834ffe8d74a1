"""Answer 503 with a clear message, instead of a 500, while the database cannot be reached."""

import logging
import sys

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.views.defaults import server_error as django_server_error
from psycopg_pool import PoolTimeout

logger = logging.getLogger("pgdeck.database")

UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, psycopg.OperationalError)
MESSAGE = "The database is unavailable right now; try again in a moment."


def is_unavailable(exc):
    if isinstance(exc, UNAVAILABLE):
        return True
    return isinstance(exc, DatabaseError) and isinstance(exc.__cause__, UNAVAILABLE)


def _wants_json(request):
    return request.path.startswith("/api/") or request.path.startswith("/healthz") or request.path == "/metrics"


def unavailable_response(request):
    if _wants_json(request):
        response = JsonResponse({"error": {"code": "database_unavailable", "message": MESSAGE}}, status=503)
    else:
        response = render(request, "503.html", {"message": MESSAGE}, status=503)
    response["Retry-After"] = "5"
    return response


class DatabaseUnavailableMiddleware:
    """Catches the error where views raise it; server_error below catches it anywhere else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_unavailable(exception):
            return None
        logger.warning("database unavailable: %s", str(exception).strip().splitlines()[:1])
        return unavailable_response(request)


def server_error(request, *args, **kwargs):
    """handler500: a database outage raised in middleware (sessions, auth) still becomes a 503."""
    exc = sys.exc_info()[1]
    if exc is not None and is_unavailable(exc):
        return unavailable_response(request)
    if _wants_json(request):
        return JsonResponse({"error": {"code": "server_error", "message": "Internal server error."}}, status=500)
    return django_server_error(request, *args, **kwargs)
