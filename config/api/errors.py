"""Every API error is JSON {"error": {"code", "message", "details"}} with a 4xx (or 503 for the database)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.middleware import describe, is_unavailable


class ApiError(exceptions.APIException):
    """Raise from a view for a specific code/status: ApiError(400, "statement_timeout", "…", details)."""

    def __init__(self, status_code, code, message, details=None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.details = details


def _first_code(detail):
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return getattr(detail, "code", None) or "invalid"


def _first_message(detail):
    if isinstance(detail, dict):
        return next((_first_message(value) for value in detail.values()), "")
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _message(exc):
    """One line naming the API field at fault (`encrypt: …`) and its first message; details hold them all."""
    detail = exc.detail
    if isinstance(detail, dict) and detail:
        fields = [str(name)[:50] for name in detail]
        first = f"{fields[0]}: {_first_message(detail[fields[0]])}"[:300].rstrip(".")
        more = f" (and {len(fields) - 1} more field(s))" if len(fields) > 1 else ""
        return f"The request is not valid: {first}{more}; see details."
    if isinstance(detail, list):
        return "The request is not valid; see details."
    return str(detail)


def error_body(code, message, details=None):
    return {"error": {"code": code, "message": message, "details": details}}


def exception_handler(exc, context):
    if is_unavailable(exc):
        code, message = describe(exc)
        return Response(error_body(code, message), status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": "5"})
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(error_body("body_too_large", f"The request body is larger than the limit of {limit} bytes.",
                                   {"limit_bytes": limit}), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        code, details = exc.error_code, exc.details
    elif isinstance(exc, exceptions.ValidationError):
        code, details = "invalid", exc.detail
    else:
        code, details = _first_code(exc.detail), None
    response.data = error_body(str(code), _message(exc), details)
    return response


def _other_form(path_info):
    """The resolver match of the path with its trailing slash toggled, when that is a real endpoint."""
    from django.urls import Resolver404, resolve

    other = path_info[:-1] if path_info.endswith("/") else path_info + "/"
    if not other or other.endswith("//"):
        return None, other
    try:
        match = resolve(other)
    except Resolver404:
        return None, other
    return (None if match.func is api_not_found else match), other


@csrf_exempt  # a POST to a wrong URL is a JSON 404 too, not the CSRF middleware's HTML 403
def api_not_found(request):
    """Last route under /api/: the one trailing-slash rule, else a JSON 404.

    Endpoints are named without a trailing slash (`/api/v1/posts`, `/api/v1/posts/7`). The other form of an
    endpoint's path answers the same, for every method (no redirect: clients drop a POST body on 301/302); the
    request is served under the canonical path, so links in the response (`next`) use it. Anything else is a
    JSON 404, not the HTML page and not an APPEND_SLASH redirect.
    """
    from django.http import JsonResponse

    match, other = _other_form(request.path_info)
    if match is not None:
        prefix = request.path[: len(request.path) - len(request.path_info)]
        request.path_info, request.path = other, prefix + other
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path[:200]}."), status=404)
