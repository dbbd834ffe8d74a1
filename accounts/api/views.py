from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from config.health import database_status

HEALTH = inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()})


class HealthView(APIView):
    """Liveness for scripts and load balancers; no key needed."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={
        (200, "application/json"): HEALTH,
        (503, "application/json"): OpenApiResponse(HEALTH, description="The database is unreachable."),
    })
    def get(self, request):
        status, _reason = database_status()
        return Response({"status": "ok" if status == "ok" else "error", "database": status},
                        status=200 if status == "ok" else 503)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()
    role = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField(), allow_null=True)
    key_prefix = serializers.CharField(allow_null=True)


class MeView(APIView):
    """Who the key (or session) belongs to: username, role and, for a key, its scopes and prefix."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        key = request.auth if isinstance(request.auth, ApiKey) else None
        data = {"username": request.user.username, "email": request.user.email, "role": request.user.role,
                "scopes": key.scopes if key else None, "key_prefix": key.prefix if key else None}
        return Response(MeSerializer(data).data)
