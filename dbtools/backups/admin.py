"""The Backup changelist, served at /admin/dbtools/backups/ (the model's own URLs redirect there)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from dbtools.backups.cli import human_size
from dbtools.models import Backup


@admin.register(Backup)
class BackupAdmin(admin.ModelAdmin):
    change_list_template = "dbtools/backups/change_list.html"
    list_display = ("backup_link", "file_name", "format", "status", "size_display", "started_at", "user", "verified")
    list_display_links = None
    list_filter = ("status", "format", "encrypted", "verify_ok")
    search_fields = ("file", "error", "verify_result")
    date_hierarchy = "started_at"
    list_per_page = 50

    def has_module_permission(self, request):
        return False  # listed once, under "Database tools" (dbtools/admin_urls.py TOOLS), not twice

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("dbtools.view_backups")

    def has_add_permission(self, request):
        return False  # backups are made by the create view, which runs pg_dump in the background

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the delete view removes the files too; a bulk queryset delete would orphan them

    @admin.display(description="backup", ordering="pk")
    def backup_link(self, obj):
        return format_html('<a href="{}">#{}</a>', reverse("admin:dbtools_backup_detail", args=[obj.pk]), obj.pk)

    @admin.display(description="file")
    def file_name(self, obj):
        return obj.file.rsplit("/", 1)[-1]

    @admin.display(description="size", ordering="size")
    def size_display(self, obj):
        return human_size(obj.size) if obj.size is not None else "–"

    @admin.display(description="verified", ordering="verified_at")
    def verified(self, obj):
        if obj.verify_ok is None:
            return "running" if obj.verify_result == "running" else "–"
        return "ok" if obj.verify_ok else "failed"

    def changelist_view(self, request, extra_context=None):
        canonical = reverse("admin:dbtools_backups")
        if request.path != canonical:
            query = request.META.get("QUERY_STRING", "")
            return redirect(canonical + (f"?{query}" if query else ""))
        extra = {"can_manage": request.user.has_perm("dbtools.manage_backups"), "title": "Backups",
                 **(extra_context or {})}
        return super().changelist_view(request, extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect("admin:dbtools_backup_detail", int(object_id))
