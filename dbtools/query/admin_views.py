"""Admin views of the query editor: the editor page (a plain form POST, enhanced by JS), cancel, exports, and the
widgets' endpoints: Format SQL, comparing two plans from history, a saved query's chart."""

import json
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from dbtools.query import selectors, services
from dbtools.query.charts import clean_chart
from dbtools.query.errors import QueryError
from dbtools.query.explain import explain_query
from dbtools.query.export import Export
from dbtools.query.formatting import format_sql
from dbtools.query.forms import QueryForm
from dbtools.query.runner import run_query
from dbtools.query.serializers import jsonable, result_payload
from dbtools.query.workspace_views import workspace_context

NULL = object()
CELL_CHARS = 2000  # the API returns whole values; the page shows this much of each
PLAN_CHOICES = 50  # recent explain runs offered on the compare page


def _require(request, perm):
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _initial(request):
    """Initial SQL from ?history=<id> (open in editor) or ?saved=<id>."""
    if request.GET.get("history", "").isdigit():
        entry = selectors.history_for(request.user).filter(pk=request.GET["history"]).first()
        return {"sql": entry.query, "tab_name": f"History #{entry.pk}"} if entry else {}
    if request.GET.get("saved", "").isdigit():
        saved = selectors.saved_queries_for(request.user).filter(pk=request.GET["saved"]).first()
        return {"sql": saved.sql, "saved_id": saved.pk, "tab_name": saved.name[:100]} if saved else {}
    return {}


def _schema(context):
    try:
        tree = selectors.schema_tree()
    except QueryError as error:
        context["schema_error"] = error.message
        tree = []
    context["schema"] = tree
    context["completion"] = selectors.completion_schema(tree)


def _cell(value):
    """Text of one result cell as psql would show it (ISO timestamps, JSON as JSON), cut for the page."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    else:
        text = str(jsonable(value))
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "…"


def _display_rows(result):
    return [[_cell(value) for value in row] for row in result.rows]


def _page_value(value):
    """A value for the page's result JSON: like the API's, long text cut as in the table."""
    value = jsonable(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and len(value) > CELL_CHARS:
        return value[:CELL_CHARS] + "…"
    return value


def _result_json(result):
    return result_payload(result, cell=_page_value)


def _run(request, form, context):
    data, user = form.cleaned_data, request.user
    action, token = data["action"], data.get("run_token", "")
    if action in ("explain", "explain_analyze"):
        context["explain"] = explain_query(user=user, sql_text=data["sql"], params=form.params(),
                                           analyze=action == "explain_analyze", token=token)
        return
    write = bool(data.get("write_mode")) and user.has_perm("dbtools.run_write_query")
    result = run_query(user=user, sql=data["sql"], params=form.params(), mode="write" if write else "read",
                       token=token)
    if write:
        services.query_write_audit(request, result, data["sql"])
    saved = selectors.saved_queries_for(user).filter(pk=data.get("saved_id") or 0).first()
    if saved is not None:
        services.saved_query_mark_run(saved)
        context["saved"] = saved
    context["result"], context["rows"] = result, _display_rows(result)
    context["result_json"] = _result_json(result)  # the grid and the chart (widgets.js) mount over it


def _export(request, form):
    _require(request, "dbtools.export_query")
    fmt = "csv" if form.cleaned_data["action"] == "export_csv" else "json"
    export = Export(user=request.user, sql_text=form.cleaned_data["sql"], fmt=fmt, params=form.params())
    response = StreamingHttpResponse(export, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


def _export_job(request, form):
    """A long export as a job (jobs.exports): written to a file by a worker, downloaded from its job page."""
    from jobs.errors import JobError
    from jobs.starters import export_job

    _require(request, "dbtools.export_query")
    try:
        run = export_job(actor=request.user, sql_text=form.cleaned_data["sql"], fmt="csv", params=form.params())
    except JobError as exc:
        raise QueryError(str(exc), code="invalid") from None
    messages.success(request, f"Export queued as job #{run.pk}: its file is offered here once it is done.")
    return redirect("admin:jobs_jobrun_change", run.pk)


def _save(request, form):
    _require(request, "dbtools.manage_saved_queries")
    data = form.cleaned_data
    saved = services.saved_query_create(owner=request.user, name=data["save_name"], sql=data["sql"],
                                        description=data.get("save_description", ""),
                                        shared=data.get("save_shared", False))
    messages.success(request, f"Saved query “{saved.name}” created.")
    return redirect(f"{reverse('admin:dbtools_query')}?saved={saved.pk}")


def query_editor(request, site):
    _require(request, "dbtools.run_query")
    form = QueryForm(request.POST or None, initial=_initial(request), user=request.user)
    context = {**site.each_context(request), "title": "Query editor", "form": form, "null": NULL,
               "can_export": request.user.has_perm("dbtools.export_query"),
               "can_save": request.user.has_perm("dbtools.manage_saved_queries"),
               "can_write": request.user.has_perm("dbtools.run_write_query")}
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        try:
            if action in ("export_csv", "export_json"):
                return _export(request, form)
            if action == "export_job":
                return _export_job(request, form)
            if action == "save":
                return _save(request, form)
            _run(request, form, context)
        except QueryError as error:
            context["error"] = error
    _schema(context)
    context.update(workspace_context(request, form))
    saved = selectors.saved_queries_for(request.user)
    context["saved_queries"] = saved.only("id", "name", "shared", "owner__username")[:50]
    return TemplateResponse(request, "dbtools/query/editor.html", context)


@require_POST
def query_cancel(request, site):
    """JSON endpoint the page calls while a run is in flight: {"token"} or {"query_id"}."""
    _require(request, "dbtools.run_query")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    query_id = body.get("query_id") if isinstance(body.get("query_id"), int) else None
    entry = services.query_cancel(request.user, query_id=query_id, token=str(body.get("token") or ""))
    if entry is None:
        return JsonResponse({"cancelled": False, "message": "No running query of yours matches."}, status=404)
    return JsonResponse({"cancelled": True, "query_id": entry.pk})



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
    services.saved_query_set_chart(saved, chart, actor=request.user)
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
