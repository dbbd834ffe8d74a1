"""Read-only admin for migrations_log (the audit of every upgrade, downgrade, stamp, adopt, sync and migrate)."""

from django.contrib import admin

from dbtools.admin_mixins import ReadOnlyLogAdminMixin
from dbtools.models import MigrationLog


@admin.register(MigrationLog)
class MigrationLogAdmin(ReadOnlyLogAdminMixin, admin.ModelAdmin):
    view_permission = "dbtools.view_migrations"
    list_display = ("timestamp", "action", "status", "revision", "from_revision", "app_label", "django_migration",
                    "user", "duration_ms")
    list_filter = ("action", "status", "timestamp", "app_label")
    search_fields = ("revision", "from_revision", "django_migration", "user", "error")
    date_hierarchy = "timestamp"
    readonly_fields = [field.name for field in MigrationLog._meta.fields]
