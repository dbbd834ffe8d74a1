"""Answer 503 with a clear message, instead of a 500, while the database cannot be reached."""

import logging
import sys

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error
from psycopg_pool import PoolTimeout

logger = logging.getLogger("pgdeck.database")

UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, psycopg.OperationalError)
MESSAGE = "The database is unavailable right now; try again in a moment."
# (code, message) for the database conditions that are not an outage.
BUSY = ("database_busy", "All database connections are busy (DB_POOL_TIMEOUT ran out); try again in a moment.")
TIMEOUT = ("database_timeout", "The database did not answer in time (statement or lock timeout); try again later.")


def _root(exc):
    while exc.__cause__ is not None and exc.__cause__ is not exc:
        exc = exc.__cause__
    return exc


def describe(exc):
    """(code, message) telling a full pool and a timeout apart from an outage."""
    root = _root(exc)
    if isinstance(root, PoolTimeout):
        return BUSY
    if isinstance(root, (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable)):
        return TIMEOUT
    return "database_unavailable", MESSAGE


def is_unavailable(exc):
    if isinstance(exc, UNAVAILABLE):
        return True
    return isinstance(exc, DatabaseError) and isinstance(exc.__cause__, UNAVAILABLE)


def _wants_json(request):
    return request.path.startswith("/api/") or request.path.startswith("/healthz") or request.path == "/metrics"


def unavailable_response(request, exc=None):
    code, message = describe(exc) if exc is not None else ("database_unavailable", MESSAGE)
    if _wants_json(request):
        response = JsonResponse({"error": {"code": code, "message": message}}, status=503)
    else:
        # No request: context processors (the user, the target badge) would query the database that is down.
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
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
        return unavailable_response(request, exception)


def server_error(request, *args, **kwargs):
    """handler500: a database outage raised in middleware (sessions, auth) still becomes a 503."""
    exc = sys.exc_info()[1]
    if exc is not None and is_unavailable(exc):
        return unavailable_response(request, exc)
    if _wants_json(request):
        return JsonResponse({"error": {"code": "server_error", "message": "Internal server error."}}, status=500)
    return django_server_error(request, *args, **kwargs)
