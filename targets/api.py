"""/api/v1/targets: list (everyone: the targets they may use; admins: all), create / change / delete / test
(admins). The password is write-only: answers say `has_password`, never the password."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import ApiError
from core.api.pagination import IdCursorPagination
from core.api.permissions import key_allows_target, require
from core.api.serializers import EmptyBodySerializer, StrictQuerySerializer, validated_body
from targets import identity, selectors, services
from targets.errors import TargetError
from targets.models import CAPABILITIES, ENVIRONMENTS, NAME_RE, SSLMODES, Target

CONFLICT = OpenApiResponse(description="The name is taken, or the target is read-only (default, file targets).")


class TargetSerializer(serializers.Serializer):
    """A target as the API shows it (no password)."""

    name = serializers.CharField()
    host = serializers.CharField()
    port = serializers.IntegerField()
    dbname = serializers.CharField()
    user = serializers.CharField()
    has_password = serializers.BooleanField()
    sslmode = serializers.CharField()
    sslrootcert = serializers.CharField()
    environment = serializers.ChoiceField(choices=ENVIRONMENTS)
    notes = serializers.CharField()
    source = serializers.ChoiceField(choices=["admin", "file", "settings"])
    is_default = serializers.BooleanField()
    capabilities = serializers.ListField(child=serializers.ChoiceField(choices=CAPABILITIES))
    duplicate_of = serializers.ListField(child=serializers.CharField(), help_text=(
        "Other targets that are the same database (system identifier, database and server, as the servers said "
        "when last tested); empty when none or not known."))
    created_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class TargetBodySerializer(EmptyBodySerializer):
    """A new target; `password` is write-only and stored encrypted."""

    name = serializers.RegexField(NAME_RE, max_length=63)
    host = serializers.CharField(max_length=255)
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False, default=5432)
    dbname = serializers.CharField(max_length=63)
    user = serializers.CharField(max_length=63)
    password = serializers.CharField(max_length=1000, required=False, allow_blank=True, write_only=True,
                                     default="")
    sslmode = serializers.ChoiceField(choices=SSLMODES, required=False, default="prefer")
    sslrootcert = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    environment = serializers.ChoiceField(choices=ENVIRONMENTS, required=False, default="dev")
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    allow_duplicate = serializers.BooleanField(required=False, default=False, help_text=(
        "Register it even when it is the same database as another target (otherwise 409 target_duplicate)."))


class TargetChangeSerializer(TargetBodySerializer):
    """Fields to change; a missing `password` keeps the stored one, `""` removes it."""

    name = None
    allow_duplicate = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required, field.default = False, serializers.empty


class TargetListQuery(StrictQuerySerializer):
    """The list takes only `cursor` and `page_size`."""


def target_data(target, user, default_identity=None):
    names = [name for name, _ in CAPABILITIES]
    duplicate_of = getattr(target, "duplicate_of", None)
    if duplicate_of is None:
        duplicate_of = identity.stored_duplicates(target, default_identity)
    return {
        "name": target.name, "host": target.host, "port": target.port, "dbname": target.dbname,
        "user": target.user, "has_password": target.is_default or target.has_password, "sslmode": target.sslmode,
        "sslrootcert": target.sslrootcert, "environment": target.environment, "notes": target.notes,
        "source": "settings" if target.is_default else target.source, "is_default": target.is_default,
        "capabilities": [c for c in names if selectors.user_can(user, target.name, c)],
        "duplicate_of": duplicate_of,
        "created_at": target.created_at, "updated_at": target.updated_at,
    }


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except TargetError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


def _visible(request, name):
    """The target `name` if this user may see it (admins: any; others: one they may use for something) and the
    API key is not limited to other targets."""
    target = _call(selectors.target_get, name)
    if not key_allows_target(request, name) or (not request.user.has_perm("targets.view_target") and not any(
            selectors.user_can(request.user, name, c) for c, _ in CAPABILITIES)):
        raise ApiError(404, "target_not_found", f"no target named {name!r}")
    return target


class TargetListView(GenericAPIView):
    """Newest first; `default` heads the first page. Non-admins see the targets they may use."""

    pagination_class = IdCursorPagination
    serializer_class = TargetSerializer

    def get_permissions(self):
        return [IsAuthenticated() if self.request.method in SAFE_METHODS else require("targets.add_target")()]

    @extend_schema(operation_id="targets_list", responses=TargetSerializer(many=True))
    def get(self, request):
        TargetListQuery(query_params=request.query_params).validated_or_raise()
        rows = Target.objects.all()
        if not request.user.has_perm("targets.view_target"):
            allowed = {t.name for c, _ in CAPABILITIES for t in selectors.targets_for_user(request.user, c)}
            rows = rows.filter(name__in=allowed)
        if not key_allows_target(request, ""):  # a key limited to some targets (ApiKey.targets): only those
            rows = rows.filter(name__in=[n for n in rows.values_list("name", flat=True)
                                         if key_allows_target(request, n)])
        default_identity = identity.of_default()
        page = [target_data(t, request.user, default_identity)
                for t in self.paginate_queryset(rows.order_by("-pk"))]
        if not request.query_params.get("cursor") and key_allows_target(request, "default"):
            default = selectors.default_target()
            if request.user.has_perm("targets.view_target") or any(
                    selectors.user_can(request.user, "default", c) for c, _ in CAPABILITIES):
                page.insert(0, target_data(default, request.user, default_identity))
        return self.get_paginated_response(page)

    @extend_schema(operation_id="targets_create", request=TargetBodySerializer,
                   responses={201: TargetSerializer, 409: OpenApiResponse(description=(
                       "The name is taken (conflict), or the target is the same database as another "
                       "(target_duplicate; send allow_duplicate: true to register it anyway)."))})
    def post(self, request):
        body = dict(validated_body(TargetBodySerializer, request))
        target = _call(services.target_create, request=request, **body)
        return Response(target_data(target, request.user), status=201)


class TargetDetailView(APIView):
    """One target (admins: any; others: one they may use); change and delete: admins."""

    def get_permissions(self):
        perm = {"PATCH": "targets.change_target", "PUT": "targets.change_target", "DELETE": "targets.delete_target"}
        needed = perm.get(self.request.method)
        return [require(needed)()] if needed else [IsAuthenticated()]

    @extend_schema(operation_id="targets_retrieve", responses=TargetSerializer)
    def get(self, request, name):
        return Response(target_data(_visible(request, name), request.user))

    @extend_schema(operation_id="targets_partial_update", request=TargetChangeSerializer,
                   responses={200: TargetSerializer, 409: CONFLICT})
    def patch(self, request, name):
        body = dict(validated_body(TargetChangeSerializer, request))
        password = body.pop("password", None)
        target = _call(services.target_update, name, request=request, password=password, **body)
        return Response(target_data(target, request.user))

    @extend_schema(operation_id="targets_destroy", request=None, responses={204: None, 409: CONFLICT})
    def delete(self, request, name):
        validated_body(EmptyBodySerializer, request)
        _call(services.target_delete, name, request=request)
        return Response(status=204)


class TargetTestResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField()
    server_version = serializers.CharField()
    latency_ms = serializers.FloatField(allow_null=True)
    tls_in_use = serializers.BooleanField(allow_null=True)
    tls_version = serializers.CharField()
    user = serializers.CharField()
    privileges = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField(help_text="One line when `ok` is false.")
    duplicate_of = serializers.ListField(child=serializers.CharField(), help_text=(
        "Other targets that are the same database as this one, by what the servers say."))


class TargetTestView(APIView):
    """Connect once: server version, latency, TLS, privileges; or `ok: false` and a one-line `error`."""

    permission_classes = [require("targets.change_target")]

    @extend_schema(operation_id="targets_test", request=None, responses=TargetTestResultSerializer)
    def post(self, request, name):
        validated_body(EmptyBodySerializer, request)
        result = _call(services.target_test, name, request=request)
        return Response(TargetTestResultSerializer(result).data)
