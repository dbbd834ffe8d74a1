"""REST API of the query editor: run, explain, cancel, export, history, saved queries. Thin: the work is in
runner/services."""

from django.conf import settings
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView, ListCreateAPIView, RetrieveUpdateDestroyAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import ApiError
from core.api.pagination import IdCursorPagination
from core.api.permissions import has_api_permission, require
from core.api.serializers import EmptyBodySerializer, validated_body
from dbtools.query import selectors, services
from dbtools.query.errors import QueryError
from dbtools.query.explain import explain_query
from dbtools.query.export import FORMATS, Export
from dbtools.query.formatting import format_sql
from dbtools.query.runner import run_query
from dbtools.query.serializers import (
    ExplainRequestSerializer,
    ExportRequestSerializer,
    FormatRequestSerializer,
    HistoryQuery,
    QueryHistorySerializer,
    QueryRequestSerializer,
    QueryResultSerializer,
    RunSavedSerializer,
    SavedQuerySerializer,
    explain_payload,
    result_payload,
)

BODY_MARGIN = 64 * 1024  # JSON framing and params on top of the SQL itself
EXPORT_ROWS = {"type": "array", "items": {"type": "object"}}  # ?format=json: an array of row objects


def api_error(error):
    return ApiError(error.status, error.code, error.message, error.as_dict())


def check_body_size(request):
    """413 before the body is parsed: SQL over QUERY_MAX_SQL_BYTES is refused, whatever else is sent."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > settings.QUERY_MAX_SQL_BYTES + BODY_MARGIN:
        raise ApiError(413, "too_large", f"The request is larger than {settings.QUERY_MAX_SQL_BYTES} bytes of SQL.")


def validated(serializer_class, request):
    check_body_size(request)
    return validated_body(serializer_class, request)


def run_for_api(request, *, sql, params, limit=None, mode="read"):
    if mode == "write" and not has_api_permission(request, "dbtools.run_write_query"):
        raise ApiError(403, "permission_denied", "Write mode needs the permission dbtools.run_write_query "
                                                 "(role and key scope).")
    try:
        result = run_query(user=request.user, sql=sql, params=params, mode=mode, limit=limit)
    except QueryError as error:
        raise api_error(error)
    if mode == "write":
        services.query_write_audit(request, result, sql)
    return result


class QueryView(APIView):
    permission_classes = [require("dbtools.run_query")]

    @extend_schema(request=QueryRequestSerializer, responses=QueryResultSerializer)
    def post(self, request):
        data = validated(QueryRequestSerializer, request)
        result = run_for_api(request, sql=data["sql"], params=data["params"], limit=data.get("limit"),
                             mode=data["mode"])
        return Response(result_payload(result))


class ExplainView(APIView):
    permission_classes = [require("dbtools.run_query")]

    @extend_schema(request=ExplainRequestSerializer, responses=dict)
    def post(self, request):
        data = validated(ExplainRequestSerializer, request)
        try:
            result = explain_query(user=request.user, sql_text=data["sql"], params=data["params"],
                                   analyze=data["analyze"])
        except QueryError as error:
            raise api_error(error)
        return Response(explain_payload(result))


class FormatView(APIView):
    """Format SQL with PostgreSQL's grammar (pglast); 400 when it cannot parse or the meaning would change."""

    permission_classes = [require("dbtools.run_query")]

    @extend_schema(request=FormatRequestSerializer, responses=FormatRequestSerializer)
    def post(self, request):
        data = validated(FormatRequestSerializer, request)
        try:
            return Response({"sql": format_sql(data["sql"])})
        except QueryError as error:
            raise api_error(error)


class CancelView(APIView):
    permission_classes = [require("dbtools.run_query")]

    @extend_schema(request=None, responses={200: dict, 409: OpenApiResponse(description="The query is not running.")})
    def post(self, request, query_id):
        validated_body(EmptyBodySerializer, request)
        entry = selectors.history_for(request.user).filter(pk=query_id).first()
        if entry is None:
            raise ApiError(404, "not_found", f"No query {query_id} of yours.")
        if entry.status != "running" or services.query_cancel(request.user, query_id=entry.pk) is None:
            raise ApiError(409, "not_running", f"Query {query_id} is not running (status {entry.status}).")
        return Response({"cancelled": True, "query_id": entry.pk})


class ExportView(APIView):
    permission_classes = [require("dbtools.export_query")]

    def perform_content_negotiation(self, request, force=False):
        # ?format= names the export format here, not a DRF renderer; errors are always JSON.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(request=ExportRequestSerializer, responses={
        (200, FORMATS["csv"]): OpenApiResponse(str, description="format=csv"),
        (200, FORMATS["json"]): OpenApiResponse(EXPORT_ROWS, description="format=json: the rows"),
        (200, FORMATS["ndjson"]): OpenApiResponse(str, description="format=ndjson: one JSON object a line")},
                   parameters=[OpenApiParameter("format", str, enum=list(FORMATS), default="csv")])
    def post(self, request):
        data = validated(ExportRequestSerializer, request)
        fmt = request.query_params.get("format", "csv")
        if fmt not in FORMATS:
            raise ApiError(400, "invalid", f"Unknown export format {fmt!r}: use csv, json or ndjson.")
        try:
            export = Export(user=request.user, sql_text=data["sql"], fmt=fmt, params=data["params"])
        except QueryError as error:
            raise api_error(error)
        response = StreamingHttpResponse(export, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response


class QueryHistoryView(ListAPIView):
    permission_classes = [require("dbtools.run_query")]
    serializer_class = QueryHistorySerializer
    pagination_class = IdCursorPagination  # newest first; a bad cursor or page_size is a 400

    @extend_schema(parameters=[HistoryQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = HistoryQuery(query_params=self.request.query_params).validated_or_raise()
        entries = selectors.history_for(self.request.user)
        for field in ("status", "mode"):
            if field in filters:
                entries = entries.filter(**{field: filters[field]})
        if "user" in filters:
            entries = entries.filter(user__username=filters["user"])
        return entries


MANAGE = "dbtools.manage_saved_queries"


class SavedQueryListView(ListCreateAPIView):
    permission_classes = [require(MANAGE, safe_perm="dbtools.run_query")]
    serializer_class = SavedQuerySerializer  # cursor-paginated, newest first, like every list

    def get_queryset(self):
        return selectors.saved_queries_for(self.request.user)

    def create(self, request, *args, **kwargs):
        check_body_size(request)
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.saved_query_create(
            owner=self.request.user, name=data["name"], sql=data["sql"], description=data.get("description", ""),
            shared=data.get("shared", False), chart=data.get("chart"))


class SavedQueryDetailView(RetrieveUpdateDestroyAPIView):
    permission_classes = [require(MANAGE, safe_perm="dbtools.run_query")]
    serializer_class = SavedQuerySerializer

    def get_queryset(self):
        return selectors.saved_queries_for(self.request.user)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not selectors.saved_query_editable(request.user, obj):
            raise ApiError(403, "permission_denied", "Only the owner (or an admin) may change this saved query.")

    def perform_update(self, serializer):
        serializer.instance = services.saved_query_update(serializer.instance, actor=self.request.user,
                                                          **serializer.validated_data)

    def perform_destroy(self, instance):
        services.saved_query_delete(instance, actor=self.request.user)


class SavedQueryRunView(APIView):
    permission_classes = [require("dbtools.run_query")]

    @extend_schema(request=RunSavedSerializer, responses=QueryResultSerializer)
    def post(self, request, pk):
        saved = get_object_or_404(selectors.saved_queries_for(request.user), pk=pk)
        data = validated(RunSavedSerializer, request)
        result = run_for_api(request, sql=saved.sql, params=data["params"], limit=data.get("limit"))
        services.saved_query_mark_run(saved)
        return Response(result_payload(result))
