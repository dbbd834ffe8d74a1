"""Long-running statements that "cancel all" may act on: active client sessions of this database only."""

from dbtools.monitoring.queries.activity import BACKEND_COLUMNS
from dbtools.monitoring.queries.base import fetch_all


def client_statements(threshold_seconds):
    return fetch_all(
        f"SELECT {BACKEND_COLUMNS} FROM pg_stat_activity a"  # noqa: S608
        " WHERE a.state = 'active' AND a.backend_type = 'client backend' AND a.datname = current_database()"
        " AND a.pid <> pg_backend_pid() AND now() - a.query_start > make_interval(secs => %s)"
        " ORDER BY a.query_start, a.pid", [float(threshold_seconds)])
