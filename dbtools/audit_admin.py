"""The audit trail in the admin: read-only, filterable, for users with dbtools.view_audit."""

from django.contrib import admin

from dbtools.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("when", "actor_name", "action", "target", "ip")
    list_filter = ("action", ("when", admin.DateFieldListFilter))
    search_fields = ("actor_name", "action", "target")
    date_hierarchy = None
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = ("when", "actor", "actor_name", "action", "target", "ip", "user_agent", "details")

    def has_module_permission(self, request):
        return request.user.has_perm("dbtools.view_audit")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("dbtools.view_audit")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
