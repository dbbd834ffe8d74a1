"""Custom admin views of dbtools. Each feature adds its URL patterns and its entry in TOOLS here."""

# (label, url name inside the admin namespace, permission needed to see the link)
TOOLS = []


def tool_urlpatterns(site):
    patterns = []
    return patterns
