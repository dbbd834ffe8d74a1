"""GET /api/v1/audit: the audit trail for admin-scoped keys, newest first, filterable."""

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from accounts.api.permissions import require
from config.api.errors import ApiError
from dbtools.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "when", "actor_name", "action", "target", "ip", "user_agent", "details"]


@extend_schema(parameters=[
    OpenApiParameter("action", str, description="exact action, e.g. backup.create"),
    OpenApiParameter("actor", str, description="username of the actor"),
    OpenApiParameter("since", str, description="ISO 8601 date-time; events at or after it"),
])
class AuditListView(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    permission_classes = [require("dbtools.view_audit")]

    def get_queryset(self):
        queryset = AuditEvent.objects.all()
        params = self.request.query_params
        if params.get("action"):
            queryset = queryset.filter(action=params["action"])
        if params.get("actor"):
            queryset = queryset.filter(actor_name=params["actor"])
        if params.get("since"):
            since = parse_datetime(params["since"])
            if since is None:
                raise ApiError(400, "invalid_since", "since must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z")
            queryset = queryset.filter(when__gte=since)
        return queryset
