"""The backup screens, mounted in pgdeck's admin site by dbtools/admin_urls.py. The list is Backup's changelist."""

from django.urls import path

from dbtools.admin_site import tool_view
from dbtools.backups import admin_views as views
from dbtools.models import Backup


def admin_urlpatterns(site):
    changelist = site.get_model_admin(Backup).changelist_view
    return [
        path("dbtools/backups/", site.admin_view(changelist), name="dbtools_backups"),
        path("dbtools/backups/create/", tool_view(site, views.create_view), name="dbtools_backup_create"),
        path("dbtools/backups/<int:pk>/", tool_view(site, views.detail_view), name="dbtools_backup_detail"),
        path("dbtools/backups/<int:pk>/status.json", tool_view(site, views.status_view), name="dbtools_backup_status"),
        path("dbtools/backups/<int:pk>/verify/", tool_view(site, views.verify_view), name="dbtools_backup_verify"),
        path("dbtools/backups/<int:pk>/download/", tool_view(site, views.download_view),
             name="dbtools_backup_download"),
        path("dbtools/backups/<int:pk>/delete/", tool_view(site, views.delete_view), name="dbtools_backup_delete"),
        path("dbtools/backups/<int:pk>/restore/", tool_view(site, views.restore_view),
             name="dbtools_backup_restore"),
    ]
