from django.urls import path

from dbtools.backups.api import BackupDetailView, BackupDownloadView, BackupListView, BackupVerifyView
from dbtools.backups.api_restore import BackupRestoreView

urlpatterns = [
    path("backups", BackupListView.as_view(), name="api-backups"),
    path("backups/<int:pk>", BackupDetailView.as_view(), name="api-backup"),
    path("backups/<int:pk>/download", BackupDownloadView.as_view(), name="api-backup-download"),
    path("backups/<int:pk>/verify", BackupVerifyView.as_view(), name="api-backup-verify"),
    path("backups/<int:pk>/restore", BackupRestoreView.as_view(), name="api-backup-restore"),
]
