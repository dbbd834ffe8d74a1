"""The audit trail in the admin: read-only, filterable, for users with dbtools.view_audit."""

from django.contrib import admin

from dbtools.admin_mixins import ReadOnlyLogAdminMixin
from dbtools.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyLogAdminMixin, admin.ModelAdmin):
    view_permission = "dbtools.view_audit"
    list_display = ("when", "actor_name", "action", "target", "db_target", "ip")
    list_filter = ("action", ("when", admin.DateFieldListFilter))
    search_fields = ("actor_name", "action", "target")
    date_hierarchy = None
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = ("when", "actor", "actor_name", "action", "target", "db_target", "ip", "user_agent", "details")
