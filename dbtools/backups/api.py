"""/api/v1/backups: list, create (background), detail, streamed download, verify (background)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import require
from config.api.errors import ApiError
from dbtools.backups import jobs, selectors
from dbtools.backups.downloads import download_response
from dbtools.backups.errors import BackupError
from dbtools.backups.services import FORMATS
from dbtools.models import Backup


class BackupCreateSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS, default="custom")
    schema_only = serializers.BooleanField(default=False)
    tables = serializers.ListField(child=serializers.CharField(max_length=200), default=list, max_length=200)
    encrypt = serializers.BooleanField(default=False)
    verify = serializers.BooleanField(default=False)


class BackupSerializer(serializers.Serializer):
    """The shape of selectors.backup_status (documentation of the responses)."""

    id = serializers.IntegerField()
    file = serializers.CharField()
    format = serializers.ChoiceField(choices=FORMATS)
    status = serializers.ChoiceField(choices=["running", "success", "failed"])
    size = serializers.IntegerField(allow_null=True)
    progress_bytes = serializers.IntegerField()
    progress = serializers.CharField()
    checksum = serializers.CharField()
    encrypted = serializers.BooleanField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    user = serializers.CharField(allow_null=True)
    error = serializers.CharField()
    verified_at = serializers.DateTimeField(allow_null=True)
    verify_ok = serializers.BooleanField(allow_null=True)
    verify_result = serializers.CharField()
    tables = serializers.DictField(child=serializers.IntegerField(), allow_null=True)


class BackupPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    results = BackupSerializer(many=True)


def _get(pk):
    backup = selectors.backup_get(pk)
    if backup is None:
        raise ApiError(404, "not_found", f"backup {pk} does not exist")
    return backup


def _api_error(exc):
    return ApiError(exc.status, exc.code, str(exc))


class BackupListView(APIView):
    permission_classes = [require("dbtools.manage_backups", safe_perm="dbtools.view_backups")]

    @extend_schema(operation_id="backups_list", responses=BackupPageSerializer,
                   parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)])
    def get(self, request):
        try:
            limit = min(max(int(request.query_params.get("limit", 50)), 1), 100)
            offset = max(int(request.query_params.get("offset", 0)), 0)
        except ValueError:
            raise ApiError(400, "invalid", "limit and offset must be integers")
        rows = [selectors.backup_status(b) for b in selectors.backup_list(limit, offset)]
        return Response({"count": Backup.objects.count(), "limit": limit, "offset": offset, "results": rows})

    @extend_schema(operation_id="backups_create", request=BackupCreateSerializer, responses={202: BackupSerializer})
    def post(self, request):
        serializer = BackupCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            backup = jobs.backup_start(actor=request.user, request=request, fmt=data["format"],
                                       schema_only=data["schema_only"], tables=data["tables"],
                                       encrypt=data["encrypt"], verify=data["verify"])
        except BackupError as exc:
            raise _api_error(exc)
        return Response(selectors.backup_status(backup), status=202)


class BackupDetailView(APIView):
    permission_classes = [require("dbtools.view_backups")]

    @extend_schema(operation_id="backups_retrieve", responses=BackupSerializer)
    def get(self, request, pk):
        return Response(selectors.backup_status(_get(pk)))


class BackupDownloadView(APIView):
    permission_classes = [require("dbtools.manage_backups")]

    @extend_schema(operation_id="backups_download", responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk):
        try:
            return download_response(_get(pk), actor=request.user, request=request)
        except BackupError as exc:
            raise _api_error(exc)


class BackupVerifyView(APIView):
    permission_classes = [require("dbtools.manage_backups")]

    @extend_schema(operation_id="backups_verify", request=None, responses={202: BackupSerializer})
    def post(self, request, pk):
        backup = _get(pk)
        try:
            jobs.verify_start(backup, actor=request.user, request=request)
        except BackupError as exc:
            raise _api_error(exc)
        backup.refresh_from_db()
        return Response(selectors.backup_status(backup), status=202)
