"""Admin endpoints of the editor's widgets: Format SQL, compare two plans from history, a saved query's chart."""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from dbtools.query import selectors, services
from dbtools.query.charts import clean_chart
from dbtools.query.errors import QueryError
from dbtools.query.formatting import format_sql
from dbtools.query.runner import run_query
from dbtools.query.serializers import result_payload

PLAN_CHOICES = 50  # recent explain runs offered on the compare page


def _require(request, perm):
    if not request.user.has_perm(perm):
        raise PermissionDenied


def json_error(code, message, status=400, **details):
    return JsonResponse({"error": {"code": code, "message": message, **details}}, status=status)


def _body(request):
    """The JSON object a page posted, or None."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


@require_POST
def query_format(request, site):
    """{"sql"} → {"sql": formatted}; SQL that cannot be formatted without changing its meaning is a 400."""
    _require(request, "dbtools.run_query")
    body = _body(request)
    if body is None or not isinstance(body.get("sql"), str):
        return json_error("invalid", 'Send a JSON object {"sql": "…"}.')
    try:
        return JsonResponse({"sql": format_sql(body["sql"])})
    except QueryError as error:
        return json_error(error.code, error.message, error.status, position=error.position)


def _plan_side(request, key, entries):
    value = request.GET.get(key, "")
    if not value:
        return None, ""
    entry = entries.filter(pk=value).first() if value.isdigit() else None
    if entry is None:
        return None, f"No query history #{value[:20]} of yours."
    if not entry.plan:
        return None, f"History #{entry.pk} holds no plan: only Explain runs keep theirs."
    return entry, ""


def plan_compare(request, site):
    """Two EXPLAIN plans from history side by side (?a=<history id>&b=<history id>)."""
    _require(request, "dbtools.run_query")
    entries = selectors.history_for(request.user)
    (first, error_a), (second, error_b) = _plan_side(request, "a", entries), _plan_side(request, "b", entries)
    context = {**site.each_context(request), "title": "Compare plans", "first": first, "second": second,
               "errors": [e for e in (error_a, error_b) if e],
               "choices": entries.filter(plan__isnull=False).select_related(None)
               .only("id", "query", "timestamp", "mode")[:PLAN_CHOICES]}
    if first and second:
        context["plans"] = {"a": first.plan, "b": second.plan, "query_a": first.query, "query_b": second.query,
                            "labels": [f"#{first.pk}", f"#{second.pk}"]}
    return TemplateResponse(request, "dbtools/query/plan_compare.html", context)


def _saved(request, pk, *, edit):
    saved = get_object_or_404(selectors.saved_queries_for(request.user), pk=pk)
    if edit and not (request.user.has_perm("dbtools.manage_saved_queries")
                     and selectors.saved_query_editable(request.user, saved)):
        raise PermissionDenied
    return saved


@require_POST
def saved_chart(request, site, pk):
    """{"chart": {...} | null} → saves the saved query's chart settings; a bad one is a 400, nothing saved."""
    _require(request, "dbtools.run_query")
    saved = _saved(request, pk, edit=True)
    body = _body(request)
    if body is None or "chart" not in body:
        return json_error("invalid", 'Send a JSON object {"chart": {"type", "x", "y"}}.')
    try:
        chart = clean_chart(body["chart"])
    except ValidationError as error:
        return json_error("invalid_chart", " ".join(error.messages))
    services.saved_query_set_chart(saved, chart)
    return JsonResponse({"chart": chart})


@require_POST
def saved_chart_data(request, site, pk):
    """Run the saved query (read only, display cap) for its chart: {"result", "chart", "editable"}."""
    _require(request, "dbtools.run_query")
    saved = _saved(request, pk, edit=False)
    try:
        result = run_query(user=request.user, sql=saved.sql)
    except QueryError as error:
        return json_error(error.code, error.message, error.status)
    services.saved_query_mark_run(saved)
    editable = (request.user.has_perm("dbtools.manage_saved_queries")
                and selectors.saved_query_editable(request.user, saved))
    return JsonResponse({"result": result_payload(result), "chart": saved.chart, "editable": editable})
