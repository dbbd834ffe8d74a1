"""URL patterns of the monitoring screens, mounted in pgdeck's admin site by dbtools/admin_urls.py."""

from django.urls import path

from dbtools.admin_site import tool_view
from dbtools.monitoring import admin_actions, admin_views, bloat, cancel_all_views, tuning
from dbtools.monitoring.history import views as history_views
from dbtools.monitoring.index_advice import views as index_advice_views

PAGES = [
    ("", admin_views.overview_view, "dbtools_monitoring"),
    ("fleet/", admin_views.fleet_view, "dbtools_monitoring_fleet"),
    ("activity/", admin_views.activity_view, "dbtools_monitoring_activity"),
    ("locks/", admin_views.locks_view, "dbtools_monitoring_locks"),
    ("tables/", admin_views.tables_view, "dbtools_monitoring_tables"),
    ("indexes/", admin_views.indexes_view, "dbtools_monitoring_indexes"),
    ("checks/", admin_views.checks_view, "dbtools_monitoring_checks"),
    ("query-stats/", admin_views.query_stats_view, "dbtools_monitoring_query_stats"),
    ("query-history/", history_views.query_history_view, "dbtools_monitoring_query_history"),
    ("query-history/statement/", history_views.query_history_detail_view, "dbtools_monitoring_query_history_detail"),
    ("index-advice/", index_advice_views.index_advice_view, "dbtools_monitoring_index_advice"),
    ("activity/cancel-long-running/", cancel_all_views.cancel_all_view, "dbtools_monitoring_cancel_all"),
    ("bloat/", bloat.bloat_view, "dbtools_monitoring_bloat"),
    ("tuning/", tuning.tuning_view, "dbtools_monitoring_tuning"),
    ("chart-data/", admin_views.chart_data_view, "dbtools_monitoring_chart_data"),
    ("backends/<int:pid>/<str:action>/", admin_actions.backend_action_view, "dbtools_monitoring_backend_action"),
]


def admin_urlpatterns(site):
    return [path(f"dbtools/monitoring/{route}", tool_view(site, view), name=name) for route, view, name in PAGES]
