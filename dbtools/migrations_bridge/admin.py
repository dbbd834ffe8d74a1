"""Read-only admin for migrations_log (the audit of every upgrade, downgrade, stamp, adopt, sync and migrate)."""

from django.contrib import admin

from dbtools.models import MigrationLog


@admin.register(MigrationLog)
class MigrationLogAdmin(admin.ModelAdmin):
    list_display = ("timestamp", "action", "status", "revision", "from_revision", "app_label", "django_migration",
                    "user", "duration_ms")
    list_filter = ("action", "status", "timestamp", "app_label")
    search_fields = ("revision", "from_revision", "django_migration", "user", "error")
    date_hierarchy = "timestamp"
    readonly_fields = [field.name for field in MigrationLog._meta.fields]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("dbtools.view_migrations") or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
