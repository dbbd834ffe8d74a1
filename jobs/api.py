"""/api/v1/jobs: list (filter by status group and kind), detail, cancel, retry; query exports as jobs + download."""

from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import ApiError
from core.api.pagination import IdCursorPagination
from core.api.permissions import require
from core.api.serializers import EmptyBodySerializer, StrictQuerySerializer, StrictSerializerMixin, validated_body
from dbtools.backups.errors import BackupError
from dbtools.query.export import FORMATS
from jobs import selectors, services, starters
from jobs.errors import JobError
from jobs.exports import ExportGone, export_download
from jobs.models import JobRun

WRONG_STATE = OpenApiResponse(description="The job's state does not allow this (already finished, or not failed).")


class JobSerializer(serializers.Serializer):
    """The shape of selectors.job_status (documentation of the responses)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=JobRun.KINDS)
    status = serializers.ChoiceField(choices=JobRun.STATUSES)
    started_by = serializers.CharField()
    target = serializers.CharField()
    progress = serializers.CharField()
    log = serializers.ListField(child=serializers.CharField())
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField()
    worker = serializers.CharField()
    backup = serializers.IntegerField(allow_null=True)
    schedule = serializers.IntegerField(allow_null=True)
    retry_of = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)


class JobQuery(StrictQuerySerializer):
    """Filters of the jobs list (besides `cursor` and `page_size`)."""

    status = serializers.ChoiceField(choices=list(selectors.STATUS_GROUPS), required=False)
    kind = serializers.ChoiceField(choices=list(JobRun.KINDS), required=False)


def _get(pk):
    run = selectors.job_get(pk)
    if run is None:
        raise ApiError(404, "not_found", f"job {pk} does not exist")
    return run


class JobListView(GenericAPIView):
    """Newest first, cursor-paginated like every list of the API (`cursor`, `page_size`)."""

    permission_classes = [require("jobs.view_jobrun")]
    pagination_class = IdCursorPagination
    serializer_class = JobSerializer

    @extend_schema(operation_id="jobs_list", parameters=[JobQuery], responses=JobSerializer(many=True))
    def get(self, request):
        filters = JobQuery(query_params=request.query_params).validated_or_raise()
        rows, _page = selectors.job_list(status=filters.get("status"), kind=filters.get("kind"))
        page = self.paginate_queryset(rows.order_by("-pk"))
        return self.get_paginated_response([selectors.job_status(run) for run in page])


class JobDetailView(APIView):
    """Any job for holders of jobs.view_jobrun; a user who may export sees their own export jobs (to poll them)."""

    permission_classes = [require("jobs.view_jobrun") | require("dbtools.export_query")]

    @extend_schema(operation_id="jobs_retrieve", responses=JobSerializer)
    def get(self, request, pk):
        run = _get(pk)
        if not require("jobs.view_jobrun")().has_permission(request, self) and (
                run.kind != "export" or run.user_id != request.user.pk):
            raise ApiError(404, "not_found", f"job {pk} does not exist")
        return Response(selectors.job_status(run))


class ExportJobSerializer(StrictSerializerMixin, serializers.Serializer):
    sql = serializers.CharField(trim_whitespace=False)
    format = serializers.ChoiceField(choices=list(FORMATS), default="csv")
    params = serializers.DictField(required=False, default=dict)


class JobExportView(APIView):
    """Queue a query export to a file (jobs.exports); 202 with the job, then GET …/download once succeeded."""

    permission_classes = [require("dbtools.export_query")]

    @extend_schema(operation_id="jobs_export", request=ExportJobSerializer, responses={202: JobSerializer})
    def post(self, request):
        data = validated_body(ExportJobSerializer, request)
        try:
            run = starters.export_job(actor=request.user, sql_text=data["sql"], fmt=data["format"],
                                      params=data["params"])
        except JobError as exc:
            raise ApiError(400, "invalid", str(exc)) from None
        except PermissionError as exc:
            raise ApiError(403, "permission_denied", str(exc)) from None
        return Response(selectors.job_status(run), status=202)


class JobDownloadView(APIView):
    """The file of a succeeded export job, to the user who started it; 409 not_available before that, 410 gone
    once retention removed it (JOBS_EXPORT_RETENTION_HOURS)."""

    permission_classes = [require("dbtools.export_query")]

    @extend_schema(operation_id="jobs_download", responses={
        (200, "application/octet-stream"): bytes,
        409: OpenApiResponse(description="The job is not a succeeded export (`not_available`)."),
        410: OpenApiResponse(description="The export's file was removed by retention (`gone`)."),
    })
    def get(self, request, pk):
        try:
            handle, filename, content_type = export_download(_get(pk), request.user)
        except PermissionError as exc:
            raise ApiError(403, "permission_denied", str(exc)) from None
        except ExportGone as exc:
            raise ApiError(410, "gone", str(exc)) from None
        except JobError as exc:
            raise ApiError(409, "not_available", str(exc)) from None
        return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


class JobCancelView(APIView):
    permission_classes = [require("jobs.manage_jobs")]

    @extend_schema(operation_id="jobs_cancel", request=None, responses={202: JobSerializer, 409: WRONG_STATE})
    def post(self, request, pk):
        validated_body(EmptyBodySerializer, request)
        try:
            run = services.job_cancel(_get(pk), actor=request.user, request=request)
        except JobError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        return Response(selectors.job_status(run), status=202)


class JobRetryView(APIView):
    permission_classes = [require("jobs.manage_jobs")]

    @extend_schema(operation_id="jobs_retry", request=None, responses={202: JobSerializer, 409: WRONG_STATE})
    def post(self, request, pk):
        validated_body(EmptyBodySerializer, request)
        try:
            run = services.job_retry(_get(pk), actor=request.user, request=request)
        except JobError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        except PermissionError as exc:  # e.g. a restore needs restore_backup, which manage_jobs does not give
            raise ApiError(403, "permission_denied", str(exc)) from None
        except BackupError as exc:  # the original job's options no longer hold
            raise ApiError(400, "invalid", str(exc)) from None
        return Response(selectors.job_status(run), status=202)
