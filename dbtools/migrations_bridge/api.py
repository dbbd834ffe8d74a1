"""API: GET /api/v1/migrations (state, drift, recent log); POST /api/v1/migrations/upgrade|downgrade
(apply_migrations and, for an API key, the `admin` scope)."""

from django.db import DEFAULT_DB_ALIAS
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from config.api.errors import ApiError
from core.api.permissions import require
from core.api.serializers import StrictQuerySerializer, StrictSerializerMixin, validated_body
from dbtools.api_targets import TARGET_HELP, api_target
from dbtools.migrations_bridge import selectors
from dbtools.migrations_bridge.services import BridgeError, migrations_move
from dbtools.migrations_bridge.targets_state import AlembicTargetError, alembic_target_state
from dbtools.models import MigrationLog

# A revision that does not exist is a 404 (the object the body names is not found), as for any API reference.
ERROR_STATUS = {"unknown_revision": 404, "wrong_direction": 409, "drift": 409, "multiple_versions": 409,
                "migration_failed": 409, "busy": 409, "version_conflict": 409, "permission_denied": 403,
                "admin_required": 403, "backup_required": 409, "confirmation_required": 400}


class AdminScope(BasePermission):
    message = "Migrations are changed by API keys with the admin scope only."

    def has_permission(self, request, view):
        auth = getattr(request, "auth", None)
        return not isinstance(auth, ApiKey) or "admin" in (auth.scopes or [])


class LogSerializer(serializers.ModelSerializer):
    class Meta:
        model = MigrationLog
        fields = ["id", "timestamp", "action", "status", "revision", "from_revision", "app_label",
                  "django_migration", "user", "duration_ms", "error"]


def state_payload():
    state = selectors.bridge_state(DEFAULT_DB_ALIAS)
    return {
        "alembic": {"current": state.current, "versions": state.versions, "head": state.head,
                    "script_heads": state.script_heads},
        "django": {"expected_revision": state.expected,
                   "chain": [{"revision": e.pair.revision, "migration": e.pair.django_name, "applied": e.applied,
                              "in_alembic": e.in_alembic} for e in state.entries]},
        "alembic_only": [{"revision": r.revision, "down_revision": r.down_revision, "doc": r.doc,
                          "in_alembic": r.in_alembic} for r in state.alembic_only],
        "in_sync": state.in_sync,
        "drift": state.drift,
        "log": LogSerializer(selectors.log_entries(limit=20), many=True).data,
    }


class MigrationsStateView(APIView):
    permission_classes = [require("dbtools.view_migrations")]

    @extend_schema(responses=OpenApiTypes.OBJECT, description="Alembic and Django state, drift and recent log.")
    def get(self, request):
        return Response(state_payload())


class AlembicTargetQuery(StrictQuerySerializer):
    target = serializers.RegexField(r"^[a-z0-9][a-z0-9_-]{0,99}$", required=False, default="default", max_length=100,
                                    help_text=TARGET_HELP)


class AlembicTargetView(APIView):
    """GET /api/v1/migrations/alembic?target=NAME: alembic_version on a registered target (read-only)."""

    permission_classes = [require("dbtools.view_migrations")]

    @extend_schema(parameters=[AlembicTargetQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        query = AlembicTargetQuery(query_params=request.query_params).validated_or_raise()
        target = api_target(request, query["target"], "monitor")
        try:
            return Response(alembic_target_state(target).as_dict())
        except AlembicTargetError as exc:
            raise ApiError(exc.status, exc.code, str(exc), {"target": target})


class RevisionSerializer(StrictSerializerMixin, serializers.Serializer):
    revision = serializers.CharField(max_length=64)
    confirm = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                    help_text="For a downgrade that drops rows: the phrase the refusal names, "
                                              "e.g. “drop 12 rows”.")


class _MoveView(APIView):
    action = ""
    permission_classes = [require("dbtools.apply_migrations"), AdminScope]

    @extend_schema(request=RevisionSerializer, responses={
        200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="No such revision (`unknown_revision`)."),
        400: OpenApiResponse(description="A downgrade that drops rows needs `confirm` (`confirmation_required`)."),
        403: OpenApiResponse(description="Dropping rows needs an admin (`admin_required`)."),
        409: OpenApiResponse(description="Wrong direction, drift, several versions, a failed migration, busy, "
                                         "a changed version or no recent verified backup.")})
    def post(self, request):
        body = validated_body(RevisionSerializer, request)
        try:
            new = migrations_move(self.action, body["revision"], using=DEFAULT_DB_ALIAS,
                                  request=request, user=request.user.get_username(),
                                  confirmation=body["confirm"])
        except BridgeError as exc:
            raise ApiError(ERROR_STATUS.get(exc.code, 400), exc.code, str(exc))
        return Response({"revision": new, **state_payload()})


class MigrationsUpgradeView(_MoveView):
    action = "upgrade"


class MigrationsDowngradeView(_MoveView):
    action = "downgrade"
