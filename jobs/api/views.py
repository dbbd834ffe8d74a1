"""/api/v1/jobs: list (filter by status group and kind), detail, cancel, retry."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import require
from config.api.errors import ApiError
from dbtools.backups.errors import BackupError
from jobs import selectors, services
from jobs.errors import JobError
from jobs.models import JobRun


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


class JobPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    results = JobSerializer(many=True)


def _get(pk):
    run = selectors.job_get(pk)
    if run is None:
        raise ApiError(404, "not_found", f"job {pk} does not exist")
    return run


def _int(request, name, default, low, high):
    try:
        return min(max(int(request.query_params.get(name, default)), low), high)
    except ValueError:
        raise ApiError(400, "invalid", f"{name} must be an integer") from None


class JobListView(APIView):
    permission_classes = [require("jobs.view_jobrun")]

    @extend_schema(operation_id="jobs_list", responses=JobPageSerializer, parameters=[
        OpenApiParameter("status", str, enum=list(selectors.STATUS_GROUPS)),
        OpenApiParameter("kind", str, enum=list(JobRun.KINDS)),
        OpenApiParameter("limit", int), OpenApiParameter("offset", int)])
    def get(self, request):
        status, kind = request.query_params.get("status"), request.query_params.get("kind")
        if status and status not in selectors.STATUS_GROUPS:
            raise ApiError(400, "invalid", f"status must be one of {', '.join(selectors.STATUS_GROUPS)}")
        if kind and kind not in JobRun.KINDS:
            raise ApiError(400, "invalid", f"kind must be one of {', '.join(JobRun.KINDS)}")
        limit, offset = _int(request, "limit", 50, 1, 100), _int(request, "offset", 0, 0, 10**9)
        everything, page = selectors.job_list(status=status, kind=kind, limit=limit, offset=offset)
        return Response({"count": everything.count(), "limit": limit, "offset": offset,
                         "results": [selectors.job_status(run) for run in page]})


class JobDetailView(APIView):
    permission_classes = [require("jobs.view_jobrun")]

    @extend_schema(operation_id="jobs_retrieve", responses=JobSerializer)
    def get(self, request, pk):
        return Response(selectors.job_status(_get(pk)))


class JobCancelView(APIView):
    permission_classes = [require("jobs.manage_jobs")]

    @extend_schema(operation_id="jobs_cancel", request=None, responses={202: JobSerializer})
    def post(self, request, pk):
        try:
            run = services.job_cancel(_get(pk), actor=request.user, request=request)
        except JobError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        return Response(selectors.job_status(run), status=202)


class JobRetryView(APIView):
    permission_classes = [require("jobs.manage_jobs")]

    @extend_schema(operation_id="jobs_retry", request=None, responses={202: JobSerializer})
    def post(self, request, pk):
        try:
            run = services.job_retry(_get(pk), actor=request.user, request=request)
        except JobError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        except PermissionError as exc:  # e.g. a restore needs restore_backup, which manage_jobs does not give
            raise ApiError(403, "permission_denied", str(exc)) from None
        except BackupError as exc:  # the original job's options no longer hold
            raise ApiError(400, "invalid", str(exc)) from None
        return Response(selectors.job_status(run), status=202)
