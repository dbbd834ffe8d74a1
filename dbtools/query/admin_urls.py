"""The query editor's admin screens, mounted in pgdeck's admin site by dbtools/admin_urls.py."""

from django.urls import path

from dbtools.admin_site import tool_view
from dbtools.query import admin_views, workspace_views


def admin_urlpatterns(site):
    return [
        path("dbtools/query/", tool_view(site, admin_views.query_editor), name="dbtools_query"),
        path("dbtools/query/cancel/", tool_view(site, admin_views.query_cancel), name="dbtools_query_cancel"),
        path("dbtools/query/run/", tool_view(site, workspace_views.query_run), name="dbtools_query_run"),
        path("dbtools/query/format/", tool_view(site, admin_views.query_format), name="dbtools_query_format"),
        path("dbtools/query/plans/compare/", tool_view(site, admin_views.plan_compare), name="dbtools_plan_compare"),
        path("dbtools/query/saved/<int:pk>/chart/", tool_view(site, admin_views.saved_chart),
             name="dbtools_saved_chart"),
        path("dbtools/query/saved/<int:pk>/chart-data/", tool_view(site, admin_views.saved_chart_data),
             name="dbtools_saved_chart_data"),
    ]
