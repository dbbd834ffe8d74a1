"""GET /api/v1/audit: the audit trail for admin-scoped keys, newest first, filterable."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from config.api.errors import ApiError
from core.api.permissions import require
from core.api.serializers import StrictQuerySerializer
from dbtools.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "when", "actor_name", "action", "target", "db_target", "ip", "user_agent", "details"]


class SinceField(serializers.DateTimeField):
    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except serializers.ValidationError:
            raise ApiError(400, "invalid_since", "since must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z",
                           {"since": str(value)[:100]}) from None


class AuditQuery(StrictQuerySerializer):
    action = serializers.CharField(required=False, max_length=64, help_text="exact action, e.g. backup.create")
    actor = serializers.CharField(required=False, max_length=150, help_text="username of the actor")
    since = SinceField(required=False, help_text="ISO 8601 date-time; events at or after it")


@extend_schema(parameters=[AuditQuery])
class AuditListView(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    permission_classes = [require("dbtools.view_audit")]

    def get_queryset(self):
        filters = AuditQuery(query_params=self.request.query_params).validated_or_raise()
        queryset = AuditEvent.objects.all()
        if "action" in filters:
            queryset = queryset.filter(action=filters["action"])
        if "actor" in filters:
            queryset = queryset.filter(actor_name=filters["actor"])
        if "since" in filters:
            queryset = queryset.filter(when__gte=filters["since"])
        return queryset
