"""Cancel/terminate from the admin: a confirmation page (GET) and the POST that does it, like Django's delete."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from dbtools.monitoring import services
from dbtools.monitoring.admin_views import SCREENS
from dbtools.monitoring.queries.activity import backend
from dbtools.monitoring.queries.base import MonitoringQueryError, current_target, monitoring_target
from dbtools.monitoring.visibility import visibility_for
from dbtools.targeting import TARGET_ERROR_TYPES, authorize, target_name
from targets.errors import TargetNotFound

EXPLANATIONS = {
    "cancel": "pg_cancel_backend stops the statement this session is running; the session stays connected and "
              "its transaction is rolled back to before the statement (or aborted).",
    "terminate": "pg_terminate_backend ends the whole session: its open transaction is rolled back and the "
                 "client is disconnected.",
}


def _next_url(request, site):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return candidate
    return reverse(f"{site.name}:dbtools_monitoring_activity")


def _target(request):
    """The target whose backend this is (?target=); the user must be allowed to monitor and signal it."""
    name = target_name(request.GET.get("target"))
    try:
        authorize(request.user, name, "monitor")
        return authorize(request.user, name, "signal")
    except TargetNotFound as exc:
        raise Http404(str(exc))
    except TARGET_ERROR_TYPES:
        raise PermissionDenied


def backend_action_view(request, site, pid, action):
    if action not in services.ACTIONS:
        raise Http404
    if not request.user.has_perm("dbtools.view_monitoring") or not request.user.has_perm(
            services.ACTIONS[action]["perm"]):
        raise PermissionDenied
    next_url = _next_url(request, site)
    with monitoring_target(_target(request)):
        if request.method == "POST":
            return _perform(request, pid, action, next_url)
        return _confirm(request, site, pid, action, next_url)


def _confirm(request, site, pid, action, next_url):
    try:
        target = backend(pid)
    except MonitoringQueryError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(next_url)
    if not target:
        messages.error(request, f"There is no backend with pid {pid} in this database; it may have ended already.")
        return HttpResponseRedirect(next_url)
    target = {**target, "query": visibility_for(request).query(target["query"])}
    context = {**site.each_context(request), "title": f"{action.capitalize()} backend {pid}?", "backend": target,
               "action": action, "explanation": EXPLANATIONS[action], "next_url": next_url, "screens": SCREENS,
               "current": "dbtools_monitoring_activity", "target": current_target()}
    return TemplateResponse(request, "dbtools/monitoring/confirm_action.html", context)


def _perform(request, pid, action, next_url):
    try:
        outcome = services.backend_signal(action, pid, request=request)
    except services.BackendNotFound as exc:
        messages.error(request, str(exc))
    except services.BackendRefused as exc:
        messages.error(request, str(exc))
    except MonitoringQueryError as exc:
        messages.error(request, f"Could not {action} pid {pid}: {exc}")
    else:
        if outcome["result"] == "signalled":
            messages.success(request, f"Sent {action} to pid {pid}.")
        else:
            messages.warning(request, f"PostgreSQL did not {action} pid {pid} (it may have ended already).")
    return HttpResponseRedirect(next_url)
