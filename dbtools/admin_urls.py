"""Custom admin views of dbtools. Each feature adds its URL patterns and its entry in TOOLS here."""

# (label, url name inside the admin namespace, permission needed to see the link)
TOOLS = [
    ("Backups", "dbtools_backups", "dbtools.view_backups"),
]


def tool_urlpatterns(site):
    from dbtools.backups.admin_views import backup_urlpatterns

    patterns = []
    patterns += backup_urlpatterns(site)
    return patterns
