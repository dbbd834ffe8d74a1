"""Cancel every long-running statement of the app's database: a confirmation page listing exactly what will be
cancelled, then a POST that cancels only those backends still running the statement that was confirmed."""

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from core.audit import audit_record
from dbtools.monitoring import services
from dbtools.monitoring.admin_views import SCREENS
from dbtools.monitoring.queries.activity import BACKEND_COLUMNS
from dbtools.monitoring.queries.base import MonitoringQueryError, fetch_all
from dbtools.monitoring.visibility import visibility_for


def long_running_targets():
    """Active client sessions of this database past MONITORING_LONG_QUERY_SECONDS, pgdeck's own left out."""
    rows = fetch_all(
        f"SELECT {BACKEND_COLUMNS} FROM pg_stat_activity a"  # noqa: S608
        " WHERE a.state = 'active' AND a.backend_type = 'client backend' AND a.datname = current_database()"
        " AND a.pid <> pg_backend_pid() AND now() - a.query_start > make_interval(secs => %s)"
        " ORDER BY a.query_start, a.pid", [float(settings.MONITORING_LONG_QUERY_SECONDS)])
    own = services.app_backend_pids()
    return [row for row in rows if row["pid"] not in own]


def _token(row):
    """pid + statement start: a pid reused, or a session that moved on to another statement, no longer matches."""
    return f"{row['pid']}:{row['query_start'].isoformat()}"


def long_running_cancel_all(tokens, *, request):
    """Cancel the confirmed backends that still run the confirmed statement; one audit event for the batch
    (each cancel also writes its own backend.cancel event). Returns (cancelled pids, skipped tokens)."""
    current = {_token(row): row["pid"] for row in long_running_targets()}
    cancelled, skipped = [], []
    for token in tokens:
        pid = current.get(token)
        if pid is None:
            skipped.append(token)
            continue
        try:
            outcome = services.backend_signal("cancel", pid, request=request)
        except (services.BackendNotFound, services.BackendRefused):
            skipped.append(token)
            continue
        if outcome["result"] == "signalled":
            cancelled.append(pid)
        else:
            skipped.append(token)
    audit_record("backend.cancel_all", request=request, target=f"{len(cancelled)} backend(s)",
                 result="signalled" if cancelled else "nothing cancelled", cancelled=cancelled, skipped=skipped,
                 threshold_seconds=settings.MONITORING_LONG_QUERY_SECONDS)
    return cancelled, skipped


def _parse_tokens(values):
    tokens = []
    for value in values[:1000]:
        pid, _, started = value.partition(":")
        try:
            int(pid), datetime.fromisoformat(started)
        except ValueError:
            return None
        tokens.append(value)
    return tokens


def cancel_all_view(request, site):
    if not (request.user.has_perm("dbtools.view_monitoring") and request.user.has_perm("dbtools.cancel_backend")):
        raise PermissionDenied
    back = reverse(f"{site.name}:dbtools_monitoring_activity")
    if not settings.MONITORING_ALLOW_CANCEL:
        messages.error(request, "Cancel is disabled on this server (MONITORING_ALLOW_CANCEL=false).")
        return HttpResponseRedirect(back)
    try:
        if request.method == "POST":
            return _perform(request, back)
        rows = long_running_targets()
    except MonitoringQueryError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    visibility = visibility_for(request)
    for row in rows:
        row["token"], row["text"] = _token(row), visibility.query(row["query"])
    context = {**site.each_context(request), "title": "Cancel all long-running statements?", "targets": rows,
               "threshold": settings.MONITORING_LONG_QUERY_SECONDS, "screens": SCREENS, "next_url": back,
               "current": "dbtools_monitoring_activity"}
    return TemplateResponse(request, "dbtools/monitoring/confirm_cancel_all.html", context)


def _perform(request, back):
    tokens = _parse_tokens(request.POST.getlist("target"))
    if tokens is None:
        messages.error(request, "The list of statements to cancel was not understood; nothing was cancelled.")
        return HttpResponseRedirect(back)
    cancelled, skipped = long_running_cancel_all(tokens, request=request)
    messages.success(request, f"Cancelled {len(cancelled)} statement(s).")
    if skipped:
        messages.warning(request, f"{len(skipped)} statement(s) had already ended or changed and were left alone.")
    return HttpResponseRedirect(back)
