"""Admin screen /admin/dbtools/migrations/: both sides' state, drift, the log, and (with
dbtools.apply_migrations) apply pending / downgrade behind a confirmation that shows the SQL first."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from dbtools.migrations_bridge import selectors
from dbtools.migrations_bridge.authorization import is_admin
from dbtools.migrations_bridge.data_loss import downgrade_data_loss, downgrade_plan, recent_verified_backup
from dbtools.migrations_bridge.forms import ActionForm, LogFilterForm, downgrade_choices
from dbtools.migrations_bridge.revisions import BASE, revision_chain
from dbtools.migrations_bridge.services import BridgeError, migrations_move
from dbtools.migrations_bridge.targets_state import AlembicTargetError, alembic_target_state
from dbtools.targeting import TARGET_ERROR_TYPES, authorize, target_error, target_name
from targets.selectors import targets_for_user

VIEW_PERM, APPLY_PERM = "dbtools.view_migrations", "dbtools.apply_migrations"


def _require(request, perm):
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _log_context(request):
    form = LogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, selectors.log_entries(**{k: v for k, v in filters.items() if v})


def _target_section(request):
    """The read-only "Alembic on a target" section: the targets this user may look at, and ?target='s state."""
    names = [getattr(t, "name", t) for t in targets_for_user(request.user, "monitor")]
    section = {"alembic_targets": ["default"] + sorted(n for n in names if n != "default"), "alembic_target": ""}
    name = target_name(request.GET.get("target")) if request.GET.get("target") else ""
    if not name:
        return section
    section["alembic_target"] = name
    try:
        authorize(request.user, name, "monitor")
        section["alembic_state"] = alembic_target_state(name)
    except TARGET_ERROR_TYPES as exc:
        section["alembic_error"] = target_error(exc)[2]
    except AlembicTargetError as exc:
        section["alembic_error"] = str(exc)
    return section


def migrations_index(request, site, action_form=None):
    _require(request, VIEW_PERM)
    filter_form, log_rows = _log_context(request)
    state = selectors.bridge_state(DEFAULT_DB_ALIAS)
    apps = selectors.app_migrations(DEFAULT_DB_ALIAS)
    context = {
        **site.each_context(request), "title": "Migrations", "state": state, "apps": apps,
        "pending_count": sum(len(app["pending"]) for app in apps), "log_rows": log_rows,
        "filter_form": filter_form, "can_apply": request.user.has_perm(APPLY_PERM),
        "downgrade_choices": downgrade_choices(), "action_form": action_form, **_target_section(request),
    }
    return TemplateResponse(request, "dbtools/migrations/index.html", context)


def _plan(action, revision):
    if action == "upgrade":
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        return executor, selectors.pending_plan(executor)
    return downgrade_plan(revision, DEFAULT_DB_ALIAS)


def _confirm_page(request, site, action, revision, error=""):
    executor, plan = _plan(action, revision)
    mirrored = {pair.app_label for pair in revision_chain()}
    cascade = [f"{m.app_label}.{m.name}" for m, backwards in plan if backwards and m.app_label not in mirrored]
    loss = downgrade_data_loss(revision, DEFAULT_DB_ALIAS) if action == "downgrade" else None
    context = {
        **site.each_context(request), "title": f"Confirm {action}", "action": action,
        "revision": revision, "steps": selectors.plan_sql(executor, plan), "cascade": cascade,
        "state": selectors.bridge_state(DEFAULT_DB_ALIAS, with_models=False), "loss": loss,
        "may_drop_rows": is_admin(request.user), "backup": recent_verified_backup() if loss else None,
        "backup_max_age": settings.MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES, "confirm_error": error,
    }
    return TemplateResponse(request, "dbtools/migrations/confirm.html", context)


def migrations_confirm(request, site):
    _require(request, VIEW_PERM)
    _require(request, APPLY_PERM)
    form = ActionForm(request.POST or request.GET)
    if not form.is_valid():
        return migrations_index(request, site, action_form=form)
    action, revision = form.cleaned_data["action"], form.cleaned_data["revision"]
    if request.method == "POST":
        return _run(request, site, action, revision)
    return _confirm_page(request, site, action, revision)


def _run(request, site, action, revision):
    try:
        new = migrations_move(action, revision, using=DEFAULT_DB_ALIAS, request=request,
                              user=request.user.get_username(), confirmation=request.POST.get("confirm", ""))
    except BridgeError as exc:
        if exc.code in ("confirmation_required", "admin_required", "backup_required"):
            return _confirm_page(request, site, action, revision, error=str(exc))  # a form error, nothing ran
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{action.capitalize()} done: alembic_version is now {new or BASE}.")
    return redirect(reverse("admin:dbtools_migrations"))
