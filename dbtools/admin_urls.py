"""Custom admin views of dbtools. Each feature adds its URL patterns and its entry in TOOLS here."""

from django.urls import path

# (label, url name inside the admin namespace, permission needed to see the link)
TOOLS = [
    ("Query editor", "dbtools_query", "dbtools.run_query"),
    ("Monitoring", "dbtools_monitoring", "dbtools.view_monitoring"),
    ("Backups", "dbtools_backups", "dbtools.view_backups"),
]


def _query_urlpatterns(site):
    from dbtools.query import views as query_views

    def view(func):
        return site.admin_view(lambda request, *args, **kwargs: func(request, site, *args, **kwargs))

    return [
        path("dbtools/query/", view(query_views.query_editor), name="dbtools_query"),
        path("dbtools/query/cancel/", view(query_views.query_cancel), name="dbtools_query_cancel"),
        path("dbtools/query/saved/<int:pk>/open/", view(query_views.saved_query_open), name="dbtools_query_saved"),
    ]


def tool_urlpatterns(site):
    from dbtools.backups.admin_views import backup_urlpatterns
    from dbtools.monitoring.admin_urls import monitoring_urlpatterns

    return _query_urlpatterns(site) + monitoring_urlpatterns(site) + backup_urlpatterns(site)
