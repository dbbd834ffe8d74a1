"""The bloat screen: estimated wasted space of tables and of btree indexes, largest first."""

from dbtools.monitoring.admin_views import monitoring_view
from dbtools.monitoring.queries import bloat

MIN_BYTES = 64 * 1024  # below this, rewriting (VACUUM FULL, REINDEX) costs more attention than it saves


def _with_percent(rows):
    for row in rows:
        row["percent"] = round(100 * row["bloat_bytes"] / row["bytes"], 1) if row["bytes"] else None
    return rows


@monitoring_view("dbtools_monitoring_bloat", "Bloat", "bloat.html")
def bloat_view(request):
    return {"tables": _with_percent(bloat.table_bloat(MIN_BYTES)),
            "indexes": _with_percent(bloat.index_bloat(MIN_BYTES)), "min_bytes": MIN_BYTES}
