"""/api/v1/backups: list, create (background), detail, streamed download, verify (background)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import ApiError
from core.api.pagination import IdCursorPagination
from core.api.permissions import require
from core.api.serializers import EmptyBodySerializer, StrictQuerySerializer, StrictSerializerMixin, validated_body
from dbtools.api_targets import TARGET_HELP, api_target
from dbtools.backups import jobs, selectors
from dbtools.backups.downloads import download_response
from dbtools.backups.errors import BackupError
from dbtools.backups.services import FORMATS
from dbtools.models import Backup

STREAMED_FORMATS = ["custom", "plain"]


class BackupCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS, default="custom")
    schema_only = serializers.BooleanField(default=False)
    tables = serializers.ListField(child=serializers.CharField(max_length=200), default=list, max_length=200)
    encrypt = serializers.BooleanField(default=False, help_text="Needs BACKUP_ENCRYPTION_KEY on the server and "
                                                                "format custom or plain.")
    verify = serializers.BooleanField(default=False)
    target = serializers.RegexField(r"^[a-z0-9][a-z0-9_-]{0,99}$", required=False, default="default", max_length=100,
                                    help_text=TARGET_HELP)

    def validate(self, data):
        # The same rules as the service, named by the API's fields (the service words them for the CLI).
        if data["encrypt"] and not settings.BACKUP_ENCRYPTION_KEY:
            raise serializers.ValidationError({"encrypt": "Encryption needs BACKUP_ENCRYPTION_KEY to be set on the "
                                                          "server; it is not."})
        if data["encrypt"] and data["format"] not in STREAMED_FORMATS:
            raise serializers.ValidationError({"encrypt": "Encryption is streamed: it needs format custom or plain, "
                                                          f"not {data['format']}."})
        return data

    @staticmethod
    def openapi_request(schema):
        """The schema says the same: without a key `encrypt` can only be false; with one, not with directory."""
        if not settings.BACKUP_ENCRYPTION_KEY:
            schema["properties"]["encrypt"]["enum"] = [False]
        else:
            schema["not"] = {"required": ["encrypt", "format"],
                             "properties": {"encrypt": {"enum": [True]}, "format": {"enum": ["directory"]}}}
        return schema


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
    target = serializers.CharField()


class NoQuery(StrictQuerySerializer):
    """The backups list takes no filters: only `cursor` and `page_size`."""


def _get(pk):
    backup = selectors.backup_get(pk)
    if backup is None:
        raise ApiError(404, "not_found", f"backup {pk} does not exist")
    return backup


def _api_error(exc):
    return ApiError(exc.status, exc.code, str(exc))


CONFLICT = OpenApiResponse(description="The backup is not in a state that allows this (running, failed, "
                                       "already being verified).")


class BackupListView(GenericAPIView):
    """Newest first, cursor-paginated like every list of the API (`cursor`, `page_size`)."""

    permission_classes = [require("dbtools.manage_backups", safe_perm="dbtools.view_backups")]
    pagination_class = IdCursorPagination
    serializer_class = BackupSerializer

    def get_queryset(self):
        return Backup.objects.select_related("user")

    @extend_schema(operation_id="backups_list", responses=BackupSerializer(many=True))
    def get(self, request):
        NoQuery(query_params=request.query_params).validated_or_raise()
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([selectors.backup_status(backup) for backup in page])

    @extend_schema(operation_id="backups_create", request=BackupCreateSerializer, responses={202: BackupSerializer})
    def post(self, request):
        data = validated_body(BackupCreateSerializer, request)
        try:
            backup = jobs.backup_start(actor=request.user, request=request, fmt=data["format"],
                                       schema_only=data["schema_only"], tables=data["tables"],
                                       encrypt=data["encrypt"], verify=data["verify"],
                                       target=api_target(request, data["target"]))
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

    @extend_schema(operation_id="backups_download", responses={
        (200, "application/octet-stream"): OpenApiResponse(bytes, description="A custom or plain dump file."),
        (200, "application/x-tar"): OpenApiResponse(bytes, description="A directory dump, as a tar stream."),
        409: OpenApiResponse(description="The backup has no file to download (running or failed).")})
    def get(self, request, pk):
        try:
            return download_response(_get(pk), actor=request.user, request=request)
        except BackupError as exc:
            raise _api_error(exc)


class BackupVerifyView(APIView):
    permission_classes = [require("dbtools.manage_backups")]

    @extend_schema(operation_id="backups_verify", request=None, responses={202: BackupSerializer, 409: CONFLICT})
    def post(self, request, pk):
        validated_body(EmptyBodySerializer, request)
        backup = _get(pk)
        try:
            jobs.verify_start(backup, actor=request.user, request=request)
        except BackupError as exc:
            raise _api_error(exc)
        backup.refresh_from_db()
        return Response(selectors.backup_status(backup), status=202)
