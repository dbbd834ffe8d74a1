"""/api/v1/monitoring/…: thin views over the monitoring selectors and services, same error format as the API."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import ApiError
from core.api.permissions import key_allows_target, require
from core.api.serializers import EmptyBodySerializer, validated_body
from dbtools.api_targets import TARGET_HELP, api_target
from dbtools.monitoring import fleet, selectors, services
from dbtools.monitoring.queries.base import MonitoringQueryError, monitoring_target
from dbtools.monitoring.visibility import visibility_for

VIEW = require("dbtools.view_monitoring")
INT4_MAX = 2**31 - 1
TARGET_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
TARGET = OpenApiParameter("target", {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,99}$"}, required=False,
                          description=TARGET_HELP)


def _query_error(exc):
    """A failed query (503 monitoring_query_failed) or a failed target (its 4xx and code)."""
    return ApiError(exc.status, exc.code, str(exc))


def _on_target(request, capability, work):
    """Run `work()` with the monitoring queries on the request's ?target= (checked for key, user, capability)."""
    raw = request.query_params.get("target")
    if raw is not None and not TARGET_RE.fullmatch(raw):
        raise ApiError(400, "invalid_parameter", "target must be a target's name (lowercase letters, digits, - and _).",
                       {"target": raw[:100]})
    target = api_target(request, raw, "monitor")
    if capability != "monitor":
        api_target(request, target, capability)
    try:
        with monitoring_target(target):
            return work()
    except MonitoringQueryError as exc:
        raise _query_error(exc)


def _int_param(name, minimum):
    """A whole-number query parameter, documented with the bounds _positive_int enforces."""
    return OpenApiParameter(name, {"type": "integer", "minimum": minimum, "maximum": INT4_MAX}, required=False)


def _choice(request, name, choices, default):
    value = request.query_params.get(name, default)
    if value not in choices:
        raise ApiError(400, "invalid_parameter", f"{name} must be one of: {', '.join(choices)}.",
                       {name: value[:100]})
    return value


def _text(request, name):
    """A free-text filter, at most 200 characters; PostgreSQL text cannot hold NUL, so that is a 400."""
    value = request.query_params.get(name, "")[:200]
    if "\x00" in value:
        raise ApiError(400, "invalid_parameter", f"{name} must not contain NUL characters.")
    return value


def _positive_int(request, name, default):
    value = request.query_params.get(name, str(default))
    if not re.fullmatch(r"[0-9]{1,10}", value) or not (1 if name == "page" else 0) <= int(value) <= INT4_MAX:
        raise ApiError(400, "invalid_parameter", f"{name} must be a {'positive' if name == 'page' else 'whole'} "
                       "number.", {name: value[:100]})
    return int(value)


class MonitoringView(APIView):
    permission_classes = [VIEW]
    read = None  # a callable(request) → data

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[TARGET])
    def get(self, request):
        return Response(_on_target(request, "monitor", lambda: self.read(request)))


class OverviewView(MonitoringView):
    def read(self, request):
        return selectors.overview_get(visibility_for(request))


class ActivityView(MonitoringView):
    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[
        TARGET, *(OpenApiParameter(name, str, required=False)
          for name in ("state", "username", "database", "application", "search")),
        _int_param("min_seconds", 0),
        OpenApiParameter("all", bool, required=False, description="true: every backend, not only client ones")])
    def get(self, request):
        return super().get(request)

    def read(self, request):
        filters = {name: _text(request, name) for name in ("state", "username", "database", "application", "search")}
        filters["min_seconds"] = _positive_int(request, "min_seconds", 0)
        filters["client_only"] = _choice(request, "all", ["false", "true", "0", "1"], "false") in ("false", "0")
        return selectors.activity_get(filters, visibility_for(request))


class LocksView(MonitoringView):
    def read(self, request):
        return selectors.locks_get(visibility_for(request))


class TablesView(MonitoringView):
    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[
        TARGET, OpenApiParameter("sort", str, enum=selectors.TABLE_SORTS),
        OpenApiParameter("dir", str, enum=["asc", "desc"]), _int_param("page", 1), OpenApiParameter("q", str)])
    def get(self, request):
        return super().get(request)

    def read(self, request):
        sort = _choice(request, "sort", selectors.TABLE_SORTS, "size")
        direction = _choice(request, "dir", ["asc", "desc"], "asc" if sort == "name" else "desc")
        page = _positive_int(request, "page", 1)
        data = selectors.tables_get(sort=sort, descending=direction == "desc", page=page,
                                    search=_text(request, "q"))
        if page > data["pages"]:
            raise ApiError(404, "page_not_found", f"There are only {data['pages']} page(s).")
        return {**data, "sort": sort, "dir": direction}


class IndexesView(MonitoringView):
    def read(self, request):
        return selectors.indexes_get()


class ChecksView(MonitoringView):
    def read(self, request):
        results = selectors.checks_run(visibility_for(request))
        return {"summary": selectors.checks_summary(results), "checks": results}


class QueryStatsView(MonitoringView):
    @extend_schema(responses=OpenApiTypes.OBJECT,
                   parameters=[TARGET, OpenApiParameter("sort", str, enum=selectors.QUERY_SORTS)])
    def get(self, request):
        return super().get(request)

    def read(self, request):
        return selectors.query_stats_get(_choice(request, "sort", selectors.QUERY_SORTS, "total"),
                                         visibility_for(request))


class BackendActionView(APIView):
    action_name = None

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, parameters=[TARGET])
    def post(self, request, pid):
        validated_body(EmptyBodySerializer, request)
        return Response(_on_target(request, "signal", lambda: self.signal(request, pid)))

    def signal(self, request, pid):
        try:
            outcome = services.backend_signal(self.action_name, pid, request=request)
            return {**outcome, "query": visibility_for(request).query(outcome["query"])}
        except services.BackendNotFound as exc:
            raise ApiError(404, "backend_not_found", str(exc))
        except services.BackendRefused as exc:
            raise ApiError(403, exc.code, str(exc))


class CancelBackendView(BackendActionView):
    permission_classes = [require("dbtools.cancel_backend")]
    action_name = "cancel"


class TerminateBackendView(BackendActionView):
    permission_classes = [require("dbtools.terminate_backend")]
    action_name = "terminate"


class FleetView(MonitoringView):
    """One row per target the caller may monitor (and the API key covers): status up/slow/down, figures, alerts,
    last backup age. About every target at once, so no `?target=`: a key limited to some targets sees those."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(self.read(request))

    def read(self, request):
        rows = selectors.fleet_overview(request.user, allowed=lambda name: key_allows_target(request, name))
        return {"summary": fleet.summary(rows), "targets": rows}
