"""The Jobs screen (queued / running / done / failed, live progress, cancel, retry) and the schedules."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from dbtools.backups.errors import BackupError
from jobs import selectors, services
from jobs.errors import JobError
from jobs.exports import export_download
from jobs.forms import ScheduleForm
from jobs.models import JobRun, QuerySnapshot, Schedule
from jobs.schedules import CronError, cron_preview
from jobs.selectors import STATUS_GROUPS


class StatusGroupFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(name, name) for name in STATUS_GROUPS]

    def queryset(self, request, queryset):
        return queryset.filter(status__in=STATUS_GROUPS[self.value()]) if self.value() in STATUS_GROUPS else queryset


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    change_list_template = "admin/jobs/jobrun/change_list.html"
    list_display = ("pk", "kind", "status_badge", "target", "started_by", "progress", "created_at", "duration_display")
    list_filter = (StatusGroupFilter, "kind")
    search_fields = ("target", "started_by", "error")
    readonly_fields = ("kind", "status", "started_by", "target", "params", "progress", "log_lines", "result",
                       "download", "error", "worker", "backup", "schedule", "retry_of", "created_at", "started_at",
                       "finished_at", "duration_display")
    fields = readonly_fields
    actions = ["cancel_jobs", "retry_jobs"]
    list_per_page = 50

    def has_add_permission(self, request):
        return False  # jobs are started by the screens that own them (backups, schedules) or the API

    def has_view_permission(self, request, obj=None):
        """Operators see every job; a user who may export sees their own export jobs (to fetch the file)."""
        if super().has_view_permission(request, obj):
            return True
        return request.user.has_perm("dbtools.export_query") and (obj is None or obj.user_id == request.user.pk)

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows if super().has_view_permission(request) else rows.filter(user=request.user, kind="export")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of who ran what stays

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("jobs.manage_jobs"):
            actions.pop("cancel_jobs", None)
            actions.pop("retry_jobs", None)
        return actions

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="job-status job-{}">{}</span>', obj.status, obj.status)

    @admin.display(description="duration")
    def duration_display(self, obj):
        return "–" if obj.duration is None else f"{obj.duration:.1f} s"

    @admin.display(description="log (last lines)")
    def log_lines(self, obj):
        return format_html("<pre class='job-log'>{}</pre>", obj.log or "–")

    @admin.display(description="file")
    def download(self, obj):
        if obj.kind != "export":
            return "–"
        if obj.status != "succeeded":
            return "offered once the export has succeeded"
        if (obj.result or {}).get("pruned_at"):
            return "removed by retention (JOBS_EXPORT_RETENTION_HOURS)"
        return format_html('<a href="{}">{}</a>', reverse("admin:jobs_jobrun_download", args=[obj.pk]),
                           (obj.result or {}).get("filename", "download"))

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_view)
        return [path("<int:pk>/download/", download, name="jobs_jobrun_download"), *super().get_urls()]

    def download_view(self, request, pk):
        """A succeeded export's file, to the user who started it (jobs.exports.export_download)."""
        run = JobRun.objects.filter(pk=pk).first()
        if run is None:
            raise Http404("No such job")
        try:
            handle, filename, content_type = export_download(run, request.user)
        except PermissionError:
            raise PermissionDenied from None
        except JobError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect("admin:jobs_jobrun_change", pk)
        return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)

    def _each(self, request, queryset, action, verb):
        for run in queryset:
            try:
                action(run, actor=request.user, request=request)
                self.message_user(request, f"Job #{run.pk}: {verb}.", messages.SUCCESS)
            except (JobError, BackupError, PermissionError) as exc:
                self.message_user(request, f"Job #{run.pk}: {exc}", messages.ERROR)

    @admin.action(description="Cancel the selected jobs")
    def cancel_jobs(self, request, queryset):
        self._each(request, queryset, services.job_cancel, "cancel requested")

    @admin.action(description="Retry the selected jobs")
    def retry_jobs(self, request, queryset):
        self._each(request, queryset, services.job_retry, "queued again")

    def changelist_view(self, request, extra_context=None):
        active = selectors.jobs_active()
        return super().changelist_view(request, {"jobs_active": active, **(extra_context or {})})


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    change_form_template = "admin/jobs/schedule/change_form.html"
    list_display = ("name", "kind", "cron", "cron_description", "enabled", "last_run_at")
    list_filter = ("kind", "enabled")
    readonly_fields = ("preview", "last_run_at")

    @admin.display(description="runs")
    def cron_description(self, obj):
        try:
            return cron_preview(obj.cron, count=1)[0]
        except CronError as exc:
            return str(exc)

    @admin.display(description="preview (UTC)")
    def preview(self, obj):
        if obj is None or not obj.cron:
            return "–"
        description, times = cron_preview(obj.cron)
        return format_html("<strong>{}</strong><ol class='cron-next'>{}</ol>", description,
                           format_html_join("", "<li>{}</li>", ((t.strftime("%a %Y-%m-%d %H:%M"),) for t in times)))

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [path("preview.json", preview, name="jobs_schedule_preview"), *super().get_urls()]

    def preview_view(self, request):
        """The live preview under the cron field (jobs/static/jobs/schedule.js)."""
        if not self.has_view_permission(request):
            return JsonResponse({"error": "forbidden"}, status=403)
        try:
            description, times = cron_preview(request.GET.get("cron", ""))
        except CronError as exc:
            return JsonResponse({"ok": False, "error": str(exc)})
        return JsonResponse({"ok": True, "description": description,
                             "next": [t.strftime("%a %Y-%m-%d %H:%M") for t in times]})


@admin.register(QuerySnapshot)
class QuerySnapshotAdmin(admin.ModelAdmin):
    list_display = ("pk", "schedule", "saved_query", "taken_at", "row_count", "truncated")
    list_filter = ("schedule",)
    readonly_fields = ("schedule", "saved_query", "taken_at", "columns", "rows", "row_count", "truncated")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
