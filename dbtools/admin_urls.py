"""Custom admin views of dbtools. Each feature adds its URL patterns and its entry in TOOLS here."""

from django.urls import path

# (label, url name inside the admin namespace, permission needed to see the link)
TOOLS = [
    ("Query editor", "dbtools_query", "dbtools.run_query"),
    ("Monitoring", "dbtools_monitoring", "dbtools.view_monitoring"),
    ("Migrations", "dbtools_migrations", "dbtools.view_migrations"),
    ("Backups", "dbtools_backups", "dbtools.view_backups"),
]


def _bind(site, func):
    """An admin view calling func(request, site, …): the feature views render with the site's context."""
    return site.admin_view(lambda request, *args, **kwargs: func(request, site, *args, **kwargs))


def _query_urlpatterns(site):
    from dbtools.query import views, workspace_views

    return [
        path("dbtools/query/", _bind(site, views.query_editor), name="dbtools_query"),
        path("dbtools/query/cancel/", _bind(site, views.query_cancel), name="dbtools_query_cancel"),
        path("dbtools/query/run/", _bind(site, workspace_views.query_run), name="dbtools_query_run"),
    ]


def _widget_urlpatterns(site):
    from dbtools.query import widget_views as views

    return [
        path("dbtools/query/format/", _bind(site, views.query_format), name="dbtools_query_format"),
        path("dbtools/query/plans/compare/", _bind(site, views.plan_compare), name="dbtools_plan_compare"),
        path("dbtools/query/saved/<int:pk>/chart/", _bind(site, views.saved_chart), name="dbtools_saved_chart"),
        path("dbtools/query/saved/<int:pk>/chart-data/", _bind(site, views.saved_chart_data),
             name="dbtools_saved_chart_data"),
    ]


def _migrations_urlpatterns(site):
    from dbtools.migrations_bridge import views

    return [
        path("dbtools/migrations/", _bind(site, views.migrations_index), name="dbtools_migrations"),
        path("dbtools/migrations/confirm/", _bind(site, views.migrations_confirm), name="dbtools_migrations_confirm"),
    ]


def tool_urlpatterns(site):
    from dbtools.backups.admin_views import backup_urlpatterns
    from dbtools.monitoring.admin_urls import monitoring_urlpatterns

    return (_query_urlpatterns(site) + _widget_urlpatterns(site) + monitoring_urlpatterns(site)
            + _migrations_urlpatterns(site) + backup_urlpatterns(site))
