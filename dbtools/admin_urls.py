"""Custom admin views of dbtools. Each feature adds its URL patterns and its entry in TOOLS here."""

from django.urls import path

# (label, url name inside the admin namespace, permission needed to see the link)
TOOLS = [
    ("Query editor", "dbtools_query", "dbtools.run_query"),
]


def tool_urlpatterns(site):
    from dbtools.query import views as query_views

    def view(func):
        return site.admin_view(lambda request, *args, **kwargs: func(request, site, *args, **kwargs))

    patterns = [
        path("dbtools/query/", view(query_views.query_editor), name="dbtools_query"),
        path("dbtools/query/cancel/", view(query_views.query_cancel), name="dbtools_query_cancel"),
    ]
    return patterns
