"""The workspace side of the editor page: its tabs (drafts) in the page, and the JSON run the page calls.

The run goes through the same pipeline as the form and the API (runner.run_query); the page gets one result per
statement, with cells cut to what a page shows."""

import json
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from dbtools.query import selectors, services
from dbtools.query.errors import QueryError
from dbtools.query.runner import run_query
from dbtools.query.safety import statement_at
from dbtools.query.serializers import DraftSerializer, jsonable, result_payload

CELL_CHARS = 2000  # the API returns whole values; the page shows this much of each (marked with "…")


def page_cell(value):
    """A cell as the page shows it: JSON text for json/arrays, ISO timestamps with a space, long text cut."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    value = jsonable(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and len(value) > CELL_CHARS:
        return value[:CELL_CHARS] + "…"
    return value


def workspace_context(request, form):
    """Tabs for the page; a tab opened from ?history/?saved, or the posted tab updated with the posted SQL."""
    user, active = request.user, None
    if request.method == "POST" and request.POST.get("tab_id", "").isdigit():
        tab = selectors.tab_for(user, int(request.POST["tab_id"]))
        if tab is not None and tab.closed_at is None:
            active = tab.pk
            if form.is_bound and form.is_valid():
                services.tab_update(tab, sql=form.cleaned_data["sql"])
    elif form.initial.get("sql"):
        same = selectors.tabs_for(user).filter(sql=form.initial["sql"]).first()
        try:
            active = same.pk if same else services.tab_create(user, name=form.initial.get("tab_name", ""),
                                                              sql=form.initial["sql"]).pk
        except QueryError:
            active = None
    services.workspace_tabs_ensure(user)
    tabs = DraftSerializer(selectors.tabs_for(user), many=True).data
    closed = [{"id": tab.pk, "name": tab.name} for tab in selectors.tabs_for(user, closed=True)]
    allowed = selectors.query_targets_for_user(request.user)
    targets = [t["name"] for t in allowed] or ["default"]
    # each target's environment, for the header badge the page updates when the picker changes
    environments = {t["name"]: t["environment"] or settings.DEFAULT_TARGET_ENVIRONMENT for t in allowed}
    saved_chart = _saved_chart(request, form)
    return {"workspace": {"tabs": tabs, "closed": closed, "active": active, "targets": targets,
                          "environments": environments, "saved_chart": saved_chart}, "targets": targets}


def _saved_chart(request, form):
    """The open saved query's chart settings, and where the page saves them (owner or admin only)."""
    saved_id = form.initial.get("saved_id") or request.POST.get("saved_id", "")
    if not str(saved_id).isdigit():
        return None
    saved = selectors.saved_queries_for(request.user).filter(pk=int(saved_id)).first()
    if saved is None:
        return None
    editable = (request.user.has_perm("dbtools.manage_saved_queries")
                and selectors.saved_query_editable(request.user, saved))
    return {"id": saved.pk, "config": saved.chart,
            "save_url": reverse("admin:dbtools_saved_chart", args=[saved.pk]) if editable else ""}


def _body(request):
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("sql"), str):
        raise QueryError("The request needs a JSON object with the SQL as text.", code="invalid")
    return body


def _pick(body):
    """The SQL to send and its character offset in the editor: the statement under `cursor` when given."""
    sql, cursor = body["sql"], body.get("cursor")
    if isinstance(cursor, int) and not isinstance(cursor, bool):
        start, end = statement_at(sql, cursor)
        return sql[start:end], start
    return sql, 0


def _mode(request, body):
    if not body.get("write"):
        return "read"
    if not request.user.has_perm("dbtools.run_write_query"):
        raise QueryError("Write mode needs the permission dbtools.run_write_query.", code="permission_denied",
                         status=403)
    if not body.get("confirm"):
        raise QueryError("Tick the confirmation to run in write mode.", code="confirm_write")
    return "write"


def _error_payload(error, base):
    position = error.position + base if error.position else None
    return {"error": {"code": error.code, "message": error.message, "sqlstate": error.sqlstate or None,
                      "detail": error.detail or None, "hint": error.hint or None, "position": position,
                      "statement": getattr(error, "statement_index", None)}, "base_offset": base}


def _remember(request, body, payload):
    tab_id = body.get("tab_id")
    tab = selectors.tab_for(request.user, tab_id) if isinstance(tab_id, int) else None
    if tab is not None:
        services.tab_set_result(tab, payload)


@require_POST
def query_run(request, site):
    """POST {sql, params?, cursor?, write?, confirm?, token?, tab_id?, saved_id?, target?} → one result per
    statement, run on `target` (checked by the run pipeline; default "default")."""
    if not request.user.has_perm("dbtools.run_query"):
        raise PermissionDenied
    base, body = 0, {}
    try:
        body = _body(request)
        sql, base = _pick(body)
        params = body.get("params") if isinstance(body.get("params"), dict) else {}
        params = {key: value for key, value in params.items() if isinstance(value, str)}
        mode = _mode(request, body)
        target = body.get("target") if isinstance(body.get("target"), str) else "default"
        result = run_query(user=request.user, sql=sql, params=params, mode=mode,
                           token=str(body.get("token") or "")[:64], target=target[:100])
    except QueryError as error:
        payload = _error_payload(error, base)
        _remember(request, body, payload)
        return JsonResponse(payload, status=error.status)
    if mode == "write":
        services.query_write_audit(request, result, sql)
    saved_id = body.get("saved_id")
    if isinstance(saved_id, int) and not isinstance(saved_id, bool):
        saved = selectors.saved_queries_for(request.user).filter(pk=saved_id).first()
        if saved is not None:
            services.saved_query_mark_run(saved)
    payload = {**result_payload(result, cell=page_cell), "base_offset": base, "statement_count": len(result.statements)}
    _remember(request, body, payload)
    return JsonResponse(payload)
