"""The migrations screens, mounted in pgdeck's admin site by dbtools/admin_urls.py."""

from django.urls import path

from dbtools.admin_site import tool_view
from dbtools.migrations_bridge import admin_views


def admin_urlpatterns(site):
    return [
        path("dbtools/migrations/", tool_view(site, admin_views.migrations_index), name="dbtools_migrations"),
        path("dbtools/migrations/confirm/", tool_view(site, admin_views.migrations_confirm),
             name="dbtools_migrations_confirm"),
    ]
