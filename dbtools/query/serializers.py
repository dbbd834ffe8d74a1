"""API payloads of the query editor, and turning PostgreSQL values into JSON."""

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictQuerySerializer, StrictSerializerMixin
from dbtools.models import EditorTab, QueryHistory, SavedQuery
from dbtools.query.charts import CHART_TYPES, MAX_NAME, MAX_SERIES, clean_chart


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


class FormatRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    sql = serializers.CharField(trim_whitespace=False)


class RunSavedSerializer(StrictSerializerMixin, serializers.Serializer):
    target = serializers.RegexField(TARGET_RE, required=False, max_length=100,
                                    help_text="default: the saved query's own target")
    params = serializers.DictField(required=False, default=dict)
    limit = serializers.IntegerField(required=False, min_value=1, allow_null=True)


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()


class StatementResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based position of the statement in the script")
    offset = serializers.IntegerField(help_text="character offset of the statement in the SQL sent")
    length = serializers.IntegerField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField())
    row_count = serializers.IntegerField()
    truncated = serializers.BooleanField()
    rows_at_least = serializers.IntegerField(help_text="rows the statement produced: exact when rows_exact, else "
                                                       "a lower bound (reading stopped past the display cap)")
    rows_exact = serializers.BooleanField()
    rows_omitted = serializers.BooleanField(help_text="rows not kept: past the run's result-set or size budget")
    command = serializers.CharField()
    duration_ms = serializers.FloatField()


class QueryResultSerializer(serializers.Serializer):
    statements = StatementResultSerializer(many=True, help_text="one entry per statement, in order")
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField())
    row_count = serializers.IntegerField()
    truncated = serializers.BooleanField()
    rows_at_least = serializers.IntegerField(help_text="rows the statement produced: exact when rows_exact, else "
                                                       "a lower bound (reading stopped past the display cap)")
    rows_exact = serializers.BooleanField()
    duration_ms = serializers.FloatField()
    query_id = serializers.IntegerField()
    command = serializers.CharField()
    mode = serializers.CharField()
    target = serializers.CharField()


def _rows(rows, cell):
    return [[cell(v) for v in row] for row in rows]


def statement_payload(one, cell=jsonable):
    return {"index": one.index, "offset": one.offset, "length": one.length, "columns": one.columns,
            "rows": _rows(one.rows, cell), "row_count": one.row_count, "truncated": one.truncated,
            "rows_at_least": one.rows_at_least, "rows_exact": one.rows_exact, "rows_omitted": one.rows_omitted,
            "command": one.command, "duration_ms": one.duration_ms}


def result_payload(result, cell=jsonable):
    """The run's last statement at the top (as before), every statement under `statements`."""
    statements = [statement_payload(one, cell) for one in result.statements]
    rows = statements[-1]["rows"] if statements else _rows(result.rows, cell)
    return {"statements": statements, "columns": result.columns, "rows": rows, "row_count": result.row_count,
            "truncated": result.truncated, "rows_at_least": result.rows_at_least, "rows_exact": result.rows_exact,
            "duration_ms": result.duration_ms, "query_id": result.query_id, "command": result.command,
            "mode": result.mode, "target": result.target}


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


_COLUMN = {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "^[^\\u0000]*\\S[^\\u0000]*$"}
CHART_SCHEMA = {"nullable": True, "oneOf": [
    {"type": "object", "additionalProperties": False, "required": ["type", "x", "y"], "properties": {
        "type": {"type": "string", "enum": list(CHART_TYPES)},
        "x": _COLUMN,
        "y": {"oneOf": [_COLUMN, {"type": "array", "items": _COLUMN, "minItems": 1, "maxItems": MAX_SERIES}]},
        "title": {"type": "string", "maxLength": MAX_NAME}}},
    {"type": "object", "additionalProperties": False, "maxProperties": 0, "description": "no chart, like null"},
]}


@extend_schema_field(CHART_SCHEMA)
class ChartField(serializers.JSONField):
    """A saved query's chart: null (or {}) for none, else {"type", "x", "y", "title"?} (dbtools.query.charts)."""

    def to_internal_value(self, data):
        if data is not None and not isinstance(data, dict):  # "" is "no chart" in a form, not in the API
            raise serializers.ValidationError("Chart settings must be an object: {\"type\", \"x\", \"y\"} or null.")
        try:
            return clean_chart(super().to_internal_value(data))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class SavedQuerySerializer(StrictSerializerMixin, serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    target = serializers.RegexField(TARGET_RE, required=False, max_length=100,
                                    help_text="the target it runs on by default (default: the app's own database)")
    chart = ChartField(required=False, allow_null=True)

    class Meta:
        model = SavedQuery
        fields = ["id", "name", "description", "sql", "shared", "chart", "target", "owner", "run_count", "last_run_at",
                  "created_at", "updated_at"]
        read_only_fields = ["run_count", "last_run_at", "created_at", "updated_at"]


class DraftSerializer(serializers.ModelSerializer):
    closed = serializers.SerializerMethodField()

    class Meta:
        model = EditorTab
        fields = ["id", "name", "sql", "target", "position", "closed", "closed_at", "last_result", "created_at",
                  "updated_at"]

    def get_closed(self, tab) -> bool:
        return tab.closed_at is not None
