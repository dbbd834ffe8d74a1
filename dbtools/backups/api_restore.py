"""POST /api/v1/backups/{id}/restore: queue the restore of a backup into a registered target's database.

The same checks as the admin's form and `dbrestore --target` (services.restore_check): the key's target list and
the `restore` grant (403 target_forbidden), the typed confirmation `target/database` (400 confirmation_mismatch),
the live database's safety backup (409 no_recent_backup), a standby target (409 target_read_only). Nothing is
queued when any fails.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import ApiError
from core.api.permissions import require
from core.api.serializers import StrictSerializerMixin, validated_body
from dbtools.api_targets import TARGET_HELP, api_target
from dbtools.backups import jobs, selectors
from dbtools.backups.errors import BackupError
from dbtools.backups.services import target_database
from dbtools.backups.tools import DB_NAME_RE
from dbtools.targeting import DEFAULT, is_default
from dbtools.targeting import where_on as where
from jobs.errors import JobError
from jobs.selectors import job_status


class RestoreBodySerializer(StrictSerializerMixin, serializers.Serializer):
    target = serializers.RegexField(r"^[a-z0-9][a-z0-9_-]{0,99}$", required=False, default=DEFAULT, max_length=100,
                                    help_text=TARGET_HELP)
    database = serializers.RegexField(DB_NAME_RE.pattern, required=False, default="", allow_blank=True,
                                      max_length=63, help_text="Default: the target's own database.")
    create = serializers.BooleanField(default=False, help_text="Create the database first (dropped on failure).")
    confirm = serializers.CharField(max_length=200, help_text="Exactly `target/database`, e.g. `staging/appdb` "
                                                              "(on the default target the bare name also does).")


class RestoreJobSerializer(serializers.Serializer):
    """The queued restore job (the shape of GET /api/v1/jobs/{id})."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    started_by = serializers.CharField()
    target = serializers.CharField(help_text="`database` on the default target, `target/database` elsewhere.")
    backup = serializers.IntegerField(allow_null=True)


class BackupRestoreView(APIView):
    permission_classes = [require("dbtools.restore_backup")]

    @extend_schema(operation_id="backups_restore", request=RestoreBodySerializer, responses={
        202: RestoreJobSerializer,
        409: OpenApiResponse(description="Over the live database without a recent verified backup, a target "
                                         "that is the app's own database (target_duplicate), or a standby "
                                         "(target_read_only).")})
    def post(self, request, pk):
        data = validated_body(RestoreBodySerializer, request)
        backup = selectors.backup_get(pk)
        if backup is None:
            raise ApiError(404, "not_found", f"backup {pk} does not exist")
        name = api_target(request, data["target"], "restore")
        try:
            database = data["database"] or target_database(name)
            named = where(name, database)
            if data["confirm"].strip() != named and not (is_default(name) and data["confirm"].strip() == database):
                raise ApiError(400, "confirmation_mismatch", f"confirm must be exactly {named!r}",
                               {"confirm": named})
            run = jobs.restore_start(backup, actor=request.user, target=database, create=data["create"],
                                     db_target=name)
        except BackupError as exc:
            raise ApiError(exc.status, exc.code, str(exc)) from None
        except PermissionError as exc:
            raise ApiError(403, "permission_denied", str(exc)) from None
        except JobError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        return Response(job_status(run), status=202)
