"""Custom admin views of dbtools. Each feature adds its URL patterns and its entry in TOOLS here."""

from django.urls import path

# (label, url name inside the admin namespace, permission needed to see the link)
TOOLS = [
    ("Migrations", "dbtools_migrations", "dbtools.view_migrations"),
]


def tool_urlpatterns(site):
    from dbtools.migrations_bridge import views as migrations_views

    patterns = [
        path("dbtools/migrations/", site.admin_view(lambda r: migrations_views.migrations_index(r, site)),
             name="dbtools_migrations"),
        path("dbtools/migrations/confirm/", site.admin_view(lambda r: migrations_views.migrations_confirm(r, site)),
             name="dbtools_migrations_confirm"),
    ]
    return patterns
