"""The query editor's admin screens, mounted in pgdeck's admin site by dbtools/admin_urls.py."""

from django.urls import path

from dbtools.admin_site import tool_view
from dbtools.query import admin_views


def admin_urlpatterns(site):
    return [
        path("dbtools/query/", tool_view(site, admin_views.query_editor), name="dbtools_query"),
        path("dbtools/query/cancel/", tool_view(site, admin_views.query_cancel), name="dbtools_query_cancel"),
    ]
