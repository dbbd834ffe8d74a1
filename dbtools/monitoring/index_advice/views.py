"""The suggested-indexes screen: the top statements of pg_stat_statements through the advisor."""

from dbtools.monitoring.admin_views import monitoring_view
from dbtools.monitoring.index_advice.advise import MIN_ROWS, suggest
from dbtools.monitoring.queries import index_catalog
from dbtools.monitoring.visibility import visibility_for

STATEMENTS = 100


def top_statements(limit=STATEMENTS):
    return index_catalog.top_statements(limit)


@monitoring_view("dbtools_monitoring_index_advice", "Suggested indexes", "index_advice.html")
def index_advice_view(request):
    statements = top_statements()
    if statements is None:
        return {"suggestions": [], "not_installed": True}
    suggestions, visibility = suggest(statements), visibility_for(request)
    for suggestion in suggestions:
        suggestion["shown"] = [{**s, "text": visibility.query(s["query"])} for s in suggestion["statements"]]
    return {"suggestions": suggestions, "statements_read": len(statements), "min_rows": MIN_ROWS}
