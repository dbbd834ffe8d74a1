"""Custom admin views of backups: create (background), detail + status JSON, verify, download, delete, restore."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from dbtools.backups import jobs, selectors, services
from dbtools.backups.downloads import download_response
from dbtools.backups.errors import BackupError
from dbtools.backups.forms import BackupCreateForm, RestoreForm
from dbtools.backups.tools import live_database_name
from dbtools.models import Backup
from dbtools.targeting import where_on as where
from jobs.errors import JobError


def _need(request, perm):
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _backup(pk):
    backup = selectors.backup_get(pk)
    if backup is None:
        raise Http404("No such backup")
    return backup


def _render(site, request, template, title, **context):
    context = {**site.each_context(request), "title": title, "opts": Backup._meta, **context}
    return TemplateResponse(request, f"dbtools/backups/{template}", context)


def create_view(request, site):
    _need(request, "dbtools.manage_backups")
    form = BackupCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            backup = jobs.backup_start(actor=request.user, request=request, fmt=data["format"],
                                       schema_only=data["schema_only"], tables=data["table_list"],
                                       encrypt=data["encrypt"], verify=data["verify"])
        except BackupError as exc:
            form.add_error(None, str(exc))
        else:
            messages.info(request, f"Backup #{backup.pk} started; this page follows its progress.")
            return redirect("admin:dbtools_backup_detail", backup.pk)
    return _render(site, request, "create.html", "Create a backup", form=form,
                   is_admin=services.is_admin(request.user))


def detail_view(request, site, pk):
    _need(request, "dbtools.view_backups")
    backup = _backup(pk)
    tables = sorted(((backup.snapshot or {}).get("tables") or {}).items()) if backup.status == "success" else []
    return _render(site, request, "detail.html", f"Backup #{backup.pk}", backup=backup, is_detail=True, tables=tables,
                   info=selectors.backup_status(backup), verifying=jobs.verify_running(backup),
                   can_manage=request.user.has_perm("dbtools.manage_backups"),
                   deletable=backup.status != "running" or services.is_stale(backup),
                   can_restore=request.user.has_perm("dbtools.restore_backup"),
                   private_data=(backup.snapshot or {}).get("private_data", not (backup.snapshot or {}).get(
                       "excluded_data")),
                   status_url=reverse("admin:dbtools_backup_status", args=[backup.pk]))


def status_view(request, site, pk):
    _need(request, "dbtools.view_backups")
    backup = _backup(pk)
    return JsonResponse({**selectors.backup_status(backup), "verifying": jobs.verify_running(backup)})


def verify_view(request, site, pk):
    _need(request, "dbtools.manage_backups")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    backup = _backup(pk)
    try:
        jobs.verify_start(backup, actor=request.user, request=request)
        messages.info(request, f"Verifying backup #{backup.pk} in a scratch database.")
    except BackupError as exc:
        messages.error(request, str(exc))
    return redirect("admin:dbtools_backup_detail", backup.pk)


def download_view(request, site, pk):
    _need(request, "dbtools.manage_backups")
    backup = _backup(pk)
    try:
        return download_response(backup, actor=request.user, request=request)
    except BackupError as exc:
        messages.error(request, str(exc))
        return redirect("admin:dbtools_backup_detail", backup.pk)


def delete_view(request, site, pk):
    _need(request, "dbtools.manage_backups")
    backup = _backup(pk)
    if request.method == "POST":
        try:
            services.backup_delete(backup, actor=request.user, request=request)
        except BackupError as exc:
            messages.error(request, str(exc))
            return redirect("admin:dbtools_backup_detail", pk)
        messages.success(request, f"Backup #{pk} and its files were deleted.")
        return redirect("admin:dbtools_backups")
    return _render(site, request, "delete.html", f"Delete backup #{backup.pk}?", backup=backup)


def restore_view(request, site, pk):
    _need(request, "dbtools.restore_backup")
    backup = _backup(pk)
    live = live_database_name()
    form = RestoreForm(request.POST or None, user=request.user, initial={"target": backup.target or "default"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        named = where(data["target"], data["target_db"])
        try:
            run = jobs.restore_start(backup, actor=request.user, target=data["target_db"], create=data["create"],
                                     db_target=data["target"])
        except (BackupError, PermissionError, JobError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The restore of backup #{backup.pk} into database {named} is job #{run.pk}; "
                                      "other jobs on that database wait for it.")
            return redirect("admin:jobs_jobrun_change", run.pk)
    return _render(site, request, "restore.html", f"Restore backup #{backup.pk}", backup=backup, form=form,
                   live_name=live, required_minutes=settings.RESTORE_REQUIRES_VERIFIED_BACKUP_MINUTES)
