"""API payloads of the query editor, and turning PostgreSQL values into JSON."""

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from rest_framework import serializers

from core.api.serializers import StrictQuerySerializer, StrictSerializerMixin
from dbtools.models import QueryHistory, SavedQuery


def jsonable(value):
    """A JSON-safe form of a value psycopg loaded: numbers stay numbers (Decimal as text, to keep precision)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (Decimal, timedelta)):
        return str(value)
    return str(value)


TARGET_RE = r"^[a-z0-9][a-z0-9_-]{0,99}$"


def target_field():
    return serializers.RegexField(TARGET_RE, required=False, default="default", max_length=100,
                                  help_text="a registered target's name; default: the app's own database")


class QueryRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    sql = serializers.CharField(trim_whitespace=False)
    target = target_field()
    params = serializers.DictField(required=False, default=dict)
    limit = serializers.IntegerField(required=False, min_value=1, allow_null=True)
    mode = serializers.ChoiceField(choices=["read", "write"], default="read")


class ExplainRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    sql = serializers.CharField(trim_whitespace=False)
    target = target_field()
    params = serializers.DictField(required=False, default=dict)
    analyze = serializers.BooleanField(default=False)


class ExportRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    sql = serializers.CharField(trim_whitespace=False)
    target = target_field()
    params = serializers.DictField(required=False, default=dict)


class RunSavedSerializer(StrictSerializerMixin, serializers.Serializer):
    target = serializers.RegexField(TARGET_RE, required=False, max_length=100,
                                    help_text="default: the saved query's own target")
    params = serializers.DictField(required=False, default=dict)
    limit = serializers.IntegerField(required=False, min_value=1, allow_null=True)


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()


class QueryResultSerializer(serializers.Serializer):
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField())
    row_count = serializers.IntegerField()
    truncated = serializers.BooleanField()
    duration_ms = serializers.FloatField()
    query_id = serializers.IntegerField()
    command = serializers.CharField()
    mode = serializers.CharField()
    target = serializers.CharField()


def result_payload(result):
    return {"columns": result.columns, "rows": [[jsonable(v) for v in row] for row in result.rows],
            "row_count": result.row_count, "truncated": result.truncated, "duration_ms": result.duration_ms,
            "query_id": result.query_id, "command": result.command, "mode": result.mode, "target": result.target}


def explain_payload(result):
    return {"query_id": result.query_id, "analyze": result.analyze, "planning_ms": result.planning_ms,
            "execution_ms": result.execution_ms, "duration_ms": result.duration_ms, "nodes": result.nodes,
            "plan": result.plan}


class HistoryQuery(StrictQuerySerializer):
    """Filters of GET /api/v1/query-history."""

    status = serializers.ChoiceField(choices=QueryHistory.STATUS_CHOICES, required=False)
    mode = serializers.ChoiceField(choices=QueryHistory.MODE_CHOICES, required=False)
    user = serializers.CharField(required=False, max_length=150, help_text="username (view_all_query_history)")
    target = serializers.RegexField(TARGET_RE, required=False, max_length=100)


class QueryHistorySerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", default=None, read_only=True)

    class Meta:
        model = QueryHistory
        fields = ["id", "query", "user", "timestamp", "status", "mode", "execution_time", "row_count", "error",
                  "cancelled", "database_alias", "target"]


class SavedQuerySerializer(StrictSerializerMixin, serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    target = serializers.RegexField(TARGET_RE, required=False, max_length=100,
                                    help_text="the target it runs on by default (default: the app's own database)")

    class Meta:
        model = SavedQuery
        fields = ["id", "name", "description", "sql", "shared", "target", "owner", "run_count", "last_run_at",
                  "created_at", "updated_at"]
        read_only_fields = ["run_count", "last_run_at", "created_at", "updated_at"]
