from django.urls import path

from dbtools.monitoring import api

urlpatterns = [
    path("monitoring/overview", api.OverviewView.as_view(), name="api-monitoring-overview"),
    path("monitoring/activity", api.ActivityView.as_view(), name="api-monitoring-activity"),
    path("monitoring/locks", api.LocksView.as_view(), name="api-monitoring-locks"),
    path("monitoring/tables", api.TablesView.as_view(), name="api-monitoring-tables"),
    path("monitoring/indexes", api.IndexesView.as_view(), name="api-monitoring-indexes"),
    path("monitoring/checks", api.ChecksView.as_view(), name="api-monitoring-checks"),
    path("monitoring/fleet", api.FleetView.as_view(), name="api-monitoring-fleet"),
    path("monitoring/query-stats", api.QueryStatsView.as_view(), name="api-monitoring-query-stats"),
    path("monitoring/backends/<int:pid>/cancel", api.CancelBackendView.as_view(), name="api-monitoring-cancel"),
    path("monitoring/backends/<int:pid>/terminate", api.TerminateBackendView.as_view(),
         name="api-monitoring-terminate"),
]
