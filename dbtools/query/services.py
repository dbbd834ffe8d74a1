"""Writes of the query editor: history rows, cancel, saved queries."""

import time

from django.db.models import F
from django.utils import timezone

from core.audit import audit_record
from dbtools.models import QueryHistory, SavedQuery
from dbtools.query.connection import cancel_backend

HISTORY_SQL_LIMIT = 100_000  # characters of SQL kept per history row


def history_start(*, user, sql, mode, token="", alias="default", target="default"):
    return QueryHistory.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None, query=sql[:HISTORY_SQL_LIMIT],
        mode=mode, status="running", run_token=(token or "")[:64], database_alias=alias, target=target)


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


def _cancellable(user, *, query_id=None, token=None):
    entries = QueryHistory.objects.filter(status="running")
    entries = entries.filter(pk=query_id) if query_id is not None else entries.filter(run_token=token or "-")
    if not user.has_perm("dbtools.view_all_query_history"):
        entries = entries.filter(user=user)
    return entries.order_by("-pk").first()


def query_cancel(user, *, query_id=None, token=None):
    """Cancel the user's own running query (any query for admins). Returns the entry, or None if there is no
    such running query. The flag is set first so the run reports 'cancelled', not 'timeout'."""
    entry = _cancellable(user, query_id=query_id, token=token)
    if entry is None:
        return None
    QueryHistory.objects.filter(pk=entry.pk).update(cancelled=True)
    entry.cancelled = True
    if entry.backend_pid:
        cancel_backend(entry.backend_pid, entry.database_alias, entry.target)
    return entry


def query_write_audit(request, result, sql):
    audit_record("query.write", request=request, target=f"query_history:{result.query_id}", db_target=result.target,
                 statements=result.statement_count, row_count=result.row_count, sql=sql[:2000])


def saved_query_create(*, owner, name, sql, description="", shared=False, target="default"):
    return SavedQuery.objects.create(owner=owner, name=name, sql=sql, description=description, shared=shared,
                                     target=target or "default")


def saved_query_update(saved, **fields):
    for key, value in fields.items():
        setattr(saved, key, value)
    saved.save()
    return saved


def saved_query_delete(saved):
    saved.delete()


def saved_query_mark_run(saved):
    SavedQuery.objects.filter(pk=saved.pk).update(run_count=F("run_count") + 1, last_run_at=timezone.now())
    saved.refresh_from_db(fields=["run_count", "last_run_at"])
