"""REST API of saved queries: list/create, read/update/delete, run with named parameters."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListCreateAPIView, RetrieveUpdateDestroyAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import require
from config.api.errors import ApiError
from dbtools.query import selectors, services
from dbtools.query.api_views import check_body_size, run_for_api, validated
from dbtools.query.serializers import QueryResultSerializer, RunSavedSerializer, SavedQuerySerializer, result_payload

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
        serializer.instance = services.saved_query_update(serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.saved_query_delete(instance)


class SavedQueryRunView(APIView):
    permission_classes = [require("dbtools.run_query")]

    @extend_schema(request=RunSavedSerializer, responses=QueryResultSerializer)
    def post(self, request, pk):
        saved = get_object_or_404(selectors.saved_queries_for(request.user), pk=pk)
        data = validated(RunSavedSerializer, request)
        result = run_for_api(request, sql=saved.sql, params=data["params"], limit=data.get("limit"))
        services.saved_query_mark_run(saved)
        return Response(result_payload(result))
