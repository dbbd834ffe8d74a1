"""Custom admin views of dbtools: each tool's admin_urls.admin_urlpatterns(site) (views wrapped by
dbtools.admin_site.tool_view), and the TOOLS entries of the "Database tools" app list."""


# (label, url name inside the admin namespace, permission needed to see the link)
TOOLS = [
    ("Query editor", "dbtools_query", "dbtools.run_query"),
    ("Monitoring", "dbtools_monitoring", "dbtools.view_monitoring"),
    ("Migrations", "dbtools_migrations", "dbtools.view_migrations"),
    ("Backups", "dbtools_backups", "dbtools.view_backups"),
]


def tool_urlpatterns(site):
    from dbtools.backups.admin_urls import admin_urlpatterns as backups
    from dbtools.migrations_bridge.admin_urls import admin_urlpatterns as migrations
    from dbtools.monitoring.admin_urls import admin_urlpatterns as monitoring
    from dbtools.query.admin_urls import admin_urlpatterns as query

    return query(site) + monitoring(site) + migrations(site) + backups(site)
