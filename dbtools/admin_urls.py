"""Custom admin views of dbtools. Each feature adds its URL patterns and its entry in TOOLS here."""

# (label, url name inside the admin namespace, permission needed to see the link)
TOOLS = []
TOOLS.append(("Monitoring", "dbtools_monitoring", "dbtools.view_monitoring"))


def tool_urlpatterns(site):
    patterns = []
    from dbtools.monitoring.admin_urls import monitoring_urlpatterns

    patterns += monitoring_urlpatterns(site)
    return patterns
