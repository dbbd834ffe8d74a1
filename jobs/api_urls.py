from django.urls import path

from jobs.api import JobCancelView, JobDetailView, JobDownloadView, JobExportView, JobListView, JobRetryView

urlpatterns = [
    path("jobs", JobListView.as_view(), name="api-jobs"),
    path("jobs/exports", JobExportView.as_view(), name="api-job-export"),
    path("jobs/<int:pk>", JobDetailView.as_view(), name="api-job"),
    path("jobs/<int:pk>/download", JobDownloadView.as_view(), name="api-job-download"),
    path("jobs/<int:pk>/cancel", JobCancelView.as_view(), name="api-job-cancel"),
    path("jobs/<int:pk>/retry", JobRetryView.as_view(), name="api-job-retry"),
]
