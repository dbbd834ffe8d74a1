"""REST API of the workspace's drafts (editor tabs): list, create, read, update (rename, SQL, close, reopen),
delete. The editor page saves its tabs through these endpoints too. Thin: the rules are in services."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import ApiError
from core.api.permissions import require
from core.api.serializers import StrictQuerySerializer, StrictSerializerMixin, validated_body
from dbtools.query import selectors, services
from dbtools.query.errors import QueryError
from dbtools.query.serializers import DraftSerializer

BODY_MARGIN = 64 * 1024


class DraftCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    name = serializers.CharField(required=False, max_length=services.TAB_NAME_CHARS)
    sql = serializers.CharField(required=False, allow_blank=True, default="")
    target = serializers.CharField(required=False, max_length=63, default="default")


class DraftUpdateSerializer(StrictSerializerMixin, serializers.Serializer):
    name = serializers.CharField(required=False, max_length=services.TAB_NAME_CHARS)
    sql = serializers.CharField(required=False, allow_blank=True)
    target = serializers.CharField(required=False, max_length=63)
    closed = serializers.BooleanField(required=False, help_text="true closes the tab, false reopens it")


class DraftListQuery(StrictQuerySerializer):
    closed = serializers.BooleanField(required=False, help_text="true lists the closed tabs, newest first")


def _body(serializer_class, request):
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > settings.QUERY_MAX_SQL_BYTES + BODY_MARGIN:
        raise ApiError(413, "too_large", f"The draft is larger than {settings.QUERY_MAX_SQL_BYTES:,} bytes of SQL: "
                                         "it was not saved.")
    return validated_body(serializer_class, request)


def _apply(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except QueryError as error:
        raise ApiError(error.status, error.code, error.message) from error


def _tab(request, pk):
    tab = selectors.tab_for(request.user, pk)
    if tab is None:
        raise ApiError(404, "not_found", f"No draft {pk} of yours.")
    return tab


class DraftListView(APIView):
    permission_classes = [require("dbtools.run_query")]

    @extend_schema(operation_id="v1_query_drafts_list", parameters=[DraftListQuery], responses=inline_serializer(
        "DraftList", {"results": DraftSerializer(many=True)}))
    def get(self, request):
        filters = DraftListQuery(query_params=request.query_params).validated_or_raise()
        tabs = selectors.tabs_for(request.user, closed=bool(filters.get("closed")))
        return Response({"results": DraftSerializer(tabs, many=True).data})

    @extend_schema(request=DraftCreateSerializer, responses={201: DraftSerializer})
    def post(self, request):
        data = _body(DraftCreateSerializer, request)
        tab = _apply(services.tab_create, request.user, **data)
        return Response(DraftSerializer(tab).data, status=201)


class DraftDetailView(APIView):
    permission_classes = [require("dbtools.run_query")]

    @extend_schema(responses=DraftSerializer)
    def get(self, request, pk):
        return Response(DraftSerializer(_tab(request, pk)).data)

    @extend_schema(request=DraftUpdateSerializer, responses=DraftSerializer)
    def patch(self, request, pk):
        data = dict(_body(DraftUpdateSerializer, request))
        tab = _tab(request, pk)
        closed = data.pop("closed", None)
        _apply(services.tab_update, tab, **data)
        if closed is True and tab.closed_at is None:
            services.tab_close(tab)
        elif closed is False and tab.closed_at is not None:
            _apply(services.tab_reopen, tab)
        return Response(DraftSerializer(tab).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk):
        services.tab_delete(_tab(request, pk))
        return Response(status=204)
