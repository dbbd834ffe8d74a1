from django.urls import path

from dbtools.monitoring.api import views

urlpatterns = [
    path("monitoring/overview", views.OverviewView.as_view(), name="api-monitoring-overview"),
    path("monitoring/activity", views.ActivityView.as_view(), name="api-monitoring-activity"),
    path("monitoring/locks", views.LocksView.as_view(), name="api-monitoring-locks"),
    path("monitoring/tables", views.TablesView.as_view(), name="api-monitoring-tables"),
    path("monitoring/indexes", views.IndexesView.as_view(), name="api-monitoring-indexes"),
    path("monitoring/checks", views.ChecksView.as_view(), name="api-monitoring-checks"),
    path("monitoring/query-stats", views.QueryStatsView.as_view(), name="api-monitoring-query-stats"),
    path("monitoring/backends/<int:pid>/cancel", views.CancelBackendView.as_view(), name="api-monitoring-cancel"),
    path("monitoring/backends/<int:pid>/terminate", views.TerminateBackendView.as_view(),
         name="api-monitoring-terminate"),
]
