"""Cancel all long-running, in the admin: a confirmation page listing exactly what will be cancelled (GET), then
the POST, like Django's delete confirmation."""

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from dbtools.monitoring.admin_views import SCREENS
from dbtools.monitoring.cancel_all import long_running_cancel_all, long_running_targets, statement_token
from dbtools.monitoring.queries.base import MonitoringQueryError
from dbtools.monitoring.visibility import visibility_for


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
        row["token"], row["text"] = statement_token(row), visibility.query(row["query"])
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
