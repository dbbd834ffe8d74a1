"""Writes of the query editor: who may run, history rows, cancel, saved queries, the workspace's tabs (drafts)."""

import json
import time

from django.conf import settings
from django.db.models import F, Max
from django.utils import timezone

from core.audit import audit_record
from core.authorization import NotAllowed, actor_name, require_permission
from dbtools.models import EditorTab, QueryHistory, SavedQuery
from dbtools.query.connection import cancel_backend
from dbtools.query.errors import QueryError
from dbtools.query.selectors import saved_query_editable

HISTORY_SQL_LIMIT = 100_000  # characters of SQL kept per history row


def history_start(*, user, sql, mode, token="", alias="default"):
    return QueryHistory.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None, query=sql[:HISTORY_SQL_LIMIT],
        mode=mode, status="running", run_token=(token or "")[:64], database_alias=alias)


def history_set_pid(entry, pid):
    entry.backend_pid = pid
    QueryHistory.objects.filter(pk=entry.pk).update(backend_pid=pid)


def history_was_cancelled(entry):
    return QueryHistory.objects.filter(pk=entry.pk, cancelled=True).exists()


def history_finish(entry, *, status, started, row_count=None, error=""):
    entry.execution_time = round((time.monotonic() - started) * 1000, 2)
    entry.status, entry.row_count, entry.error = status, row_count, error
    entry.cancelled = entry.cancelled or status == "cancelled"
    QueryHistory.objects.filter(pk=entry.pk).update(
        execution_time=entry.execution_time, status=status, row_count=row_count, error=error,
        cancelled=entry.cancelled)


RUN_PERMS = {"write": "dbtools.run_write_query", "export": "dbtools.export_query"}
MANAGE_SAVED = "dbtools.manage_saved_queries"


def _run_refused(message):
    return QueryError(message, code="permission_denied", status=403)


def run_authorize(user, *, mode="read", history_mode="read"):
    """Before a run, an explain or an export starts (runner.opened_run): run_query, plus run_write_query for
    write mode and export_query for an export. QueryError 403 `permission_denied`, nothing recorded."""
    require_permission(user, "dbtools.run_query", error=_run_refused)
    for kind in dict.fromkeys((mode, history_mode)):
        if kind in RUN_PERMS:
            require_permission(user, RUN_PERMS[kind], error=_run_refused)


def history_set_plan(entry, plan):
    """Keep an explain run's EXPLAIN (FORMAT JSON) document, for comparing plans from history."""
    entry.plan = plan
    QueryHistory.objects.filter(pk=entry.pk).update(plan=plan)


def saved_query_set_chart(saved, chart, *, actor):
    _require_editable(actor, saved)
    saved.chart = chart
    SavedQuery.objects.filter(pk=saved.pk).update(chart=chart, updated_at=timezone.now())
    return saved


def _cancellable(user, *, query_id=None, token=None):
    entries = QueryHistory.objects.filter(status="running")
    entries = entries.filter(pk=query_id) if query_id is not None else entries.filter(run_token=token or "-")
    if not user.has_perm("dbtools.view_all_query_history"):
        entries = entries.filter(user=user)
    return entries.order_by("-pk").first()


def query_cancel(user, *, query_id=None, token=None):
    """Cancel the user's own running query (any query for admins). Returns the entry, or None if there is no
    such running query. The flag is set first so the run reports 'cancelled', not 'timeout'."""
    require_permission(user, "dbtools.run_query", error=_run_refused)
    entry = _cancellable(user, query_id=query_id, token=token)
    if entry is None:
        return None
    QueryHistory.objects.filter(pk=entry.pk).update(cancelled=True)
    entry.cancelled = True
    if entry.backend_pid:
        cancel_backend(entry.backend_pid, entry.database_alias)
    return entry


def query_write_audit(request, result, sql):
    audit_record("query.write", request=request, target=f"query_history:{result.query_id}",
                 statements=result.statement_count, row_count=result.row_count, sql=sql[:2000])


def saved_query_create(*, owner, name, sql, description="", shared=False, chart=None):
    require_permission(owner, MANAGE_SAVED)
    return SavedQuery.objects.create(owner=owner, name=name, sql=sql, description=description, shared=shared,
                                     chart=chart)


def _require_editable(actor, saved):
    require_permission(actor, MANAGE_SAVED)
    if not saved_query_editable(actor, saved):
        raise NotAllowed(f"{actor_name(actor)} may not change saved query #{saved.pk}: only its owner or an admin")


def saved_query_update(saved, *, actor, **fields):
    _require_editable(actor, saved)
    for key, value in fields.items():
        setattr(saved, key, value)
    saved.save()
    return saved


def saved_query_delete(saved, *, actor):
    _require_editable(actor, saved)
    saved.delete()


def saved_query_mark_run(saved):
    SavedQuery.objects.filter(pk=saved.pk).update(run_count=F("run_count") + 1, last_run_at=timezone.now())
    saved.refresh_from_db(fields=["run_count", "last_run_at"])


# ---------------------------------------------------------------- workspace tabs (drafts)
MAX_OPEN_TABS = 30
MAX_CLOSED_TABS = 20  # closed tabs kept for "reopen", newest first
TAB_NAME_CHARS = 100
TAB_RESULT_BYTES = 64 * 1024  # a tab's last result is kept up to this size (rows dropped beyond it)
TAB_RESULT_ROWS = 100


def _check_draft(sql):
    size = len(sql.encode("utf-8"))
    if size > settings.QUERY_MAX_SQL_BYTES:
        raise QueryError(f"This draft is {size:,} bytes, over the editor's limit of {settings.QUERY_MAX_SQL_BYTES:,} "
                         "bytes: it was not saved (the other tabs are untouched).", code="too_large", status=413)


def _check_name(name):
    if not name.strip() or len(name) > TAB_NAME_CHARS:
        raise QueryError(f"A tab name is 1 to {TAB_NAME_CHARS} characters, not blank.", code="invalid")


def _next_position(owner):
    top = EditorTab.objects.filter(owner=owner, closed_at__isnull=True).aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def tab_create(owner, *, name="", sql="", target="default"):
    _check_draft(sql)
    if EditorTab.objects.filter(owner=owner, closed_at__isnull=True).count() >= MAX_OPEN_TABS:
        raise QueryError(f"At most {MAX_OPEN_TABS} tabs can be open: close one first.", code="too_many_tabs",
                         status=409)
    position = _next_position(owner)
    name = name or f"Query {position + 1}"
    _check_name(name)
    return EditorTab.objects.create(owner=owner, name=name, sql=sql, target=target, position=position)


def tab_update(tab, *, name=None, sql=None, target=None):
    if sql is not None:
        _check_draft(sql)
        tab.sql = sql
    if name is not None:
        _check_name(name)
        tab.name = name
    if target is not None:
        tab.target = target
    tab.save()
    return tab


def tab_close(tab):
    tab.closed_at = timezone.now()
    tab.save(update_fields=["closed_at", "updated_at"])
    stale = EditorTab.objects.filter(owner_id=tab.owner_id, closed_at__isnull=False).order_by("-closed_at")
    EditorTab.objects.filter(pk__in=list(stale.values_list("pk", flat=True)[MAX_CLOSED_TABS:])).delete()
    return tab


def tab_reopen(tab):
    if EditorTab.objects.filter(owner_id=tab.owner_id, closed_at__isnull=True).count() >= MAX_OPEN_TABS:
        raise QueryError(f"At most {MAX_OPEN_TABS} tabs can be open: close one first.", code="too_many_tabs",
                         status=409)
    tab.closed_at, tab.position = None, _next_position(tab.owner_id)
    tab.save(update_fields=["closed_at", "position", "updated_at"])
    return tab


def tab_delete(tab):
    tab.delete()


def workspace_tabs_ensure(owner):
    """A user opening the workspace always has one tab."""
    if not EditorTab.objects.filter(owner=owner, closed_at__isnull=True).exists():
        tab_create(owner)


def tab_set_result(tab, payload):
    """Keep a run's result with the tab; rows go when it is too big to keep (the summary stays)."""
    kept = {key: value for key, value in payload.items() if key != "rows"}  # the statements hold them
    kept["statements"] = [{**s, "rows": s.get("rows", [])[:TAB_RESULT_ROWS],
                           "truncated": s.get("truncated") or len(s.get("rows", [])) > TAB_RESULT_ROWS}
                          for s in payload.get("statements", [])]
    if len(json.dumps(kept, default=str)) > TAB_RESULT_BYTES:
        kept["statements"] = [{**s, "rows": [], "rows_omitted": True} for s in kept["statements"]]
        kept["rows_dropped"] = True
        if len(json.dumps(kept, default=str)) > TAB_RESULT_BYTES:
            kept = {key: value for key, value in kept.items() if key != "statements"} | {"statements": []}
    EditorTab.objects.filter(pk=tab.pk).update(last_result=kept)
    tab.last_result = kept
