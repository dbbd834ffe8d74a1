"""pg_stat_activity: backends of the app's database, long-running statements, connection counts by state.

Only backends of current_database() are listed, looked up or signalled: the other databases of the cluster are
not this console's business (their sessions, their query text)."""

from dbtools.monitoring.queries.base import fetch_all, fetch_one

BACKEND_COLUMNS = (
    "a.pid, a.usename AS username, a.datname AS database, a.application_name, host(a.client_addr) AS client_addr,"
    " a.client_port, a.backend_type, a.state, a.wait_event_type, a.wait_event, a.backend_start, a.xact_start,"
    " a.query_start, a.state_change, extract(epoch FROM now() - a.query_start)::float AS duration_seconds,"
    " a.query, a.pid = pg_backend_pid() AS is_self"
)


IN_LANE = " a.datname = current_database() AND (%(pids)s::int[] IS NULL OR a.pid = ANY(%(pids)s::int[]))"


def _pids(pids):
    return None if pids is None else list(pids)


def backends(*, state="", username="", database="", application="", search="", min_seconds=0, client_only=True,
             pids=None):
    """Every other backend of this database matching the filters (all parameters, never interpolated), longest-
    running first; `pids` (when not None) limits them further.

    Our own query is left out: its text contains the search words and it is always 'active'."""
    return fetch_all(
        f"SELECT {BACKEND_COLUMNS}, pg_blocking_pids(a.pid) AS blocked_by FROM pg_stat_activity a"  # noqa: S608
        f" WHERE {IN_LANE} AND a.pid <> pg_backend_pid() AND (%(state)s = '' OR a.state = %(state)s)"
        " AND (%(username)s = '' OR a.usename = %(username)s)"
        " AND (%(database)s = '' OR a.datname = %(database)s)"
        " AND (%(application)s = '' OR a.application_name ILIKE %(application_like)s)"
        " AND (%(search)s = '' OR a.query ILIKE %(search_like)s)"
        " AND (%(min_seconds)s = 0 OR now() - a.query_start >= make_interval(secs => %(min_seconds)s))"
        " AND (NOT %(client_only)s OR a.backend_type = 'client backend')"
        " ORDER BY a.query_start NULLS LAST, a.pid LIMIT 1000",
        {"state": state, "username": username, "database": database, "application": application,
         "application_like": f"%{application}%", "search": search, "search_like": f"%{search}%",
         "min_seconds": float(min_seconds or 0), "client_only": client_only, "pids": _pids(pids)},
    )


def long_running(threshold_seconds, pids=None):
    """The seed's long-running query, with the threshold as a parameter instead of a fixed 5 minutes."""
    return fetch_all(
        f"SELECT {BACKEND_COLUMNS} FROM pg_stat_activity a"  # noqa: S608
        f" WHERE {IN_LANE} AND a.state = 'active' AND a.pid <> pg_backend_pid()"
        " AND now() - a.query_start > make_interval(secs => %(threshold)s)"
        " ORDER BY a.query_start",
        {"threshold": float(threshold_seconds), "pids": _pids(pids)},
    )


def backend(pid):
    """One backend of this database by pid, or {} when there is none (it ended, never existed, or belongs to
    another database: the same answer, so a pid of another database is not even confirmed to exist)."""
    return fetch_one(f"SELECT {BACKEND_COLUMNS} FROM pg_stat_activity a"  # noqa: S608
                     " WHERE a.pid = %s AND a.datname = current_database()", [pid])


def state_counts():
    """Client connections per state (cluster-wide: max_connections is cluster-wide too)."""
    return fetch_all(
        "SELECT coalesce(state, 'unknown') AS state, count(*) AS connections FROM pg_stat_activity"
        " WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC"
    )


def filter_choices():
    return fetch_one(
        "SELECT array_agg(DISTINCT usename) FILTER (WHERE usename IS NOT NULL) AS usernames,"
        " array_agg(DISTINCT datname) FILTER (WHERE datname IS NOT NULL) AS databases,"
        " array_agg(DISTINCT state) FILTER (WHERE state IS NOT NULL) AS states FROM pg_stat_activity"
        " WHERE datname = current_database()"
    )


def own_backend_pids(application_name):
    """pids of this app's connections: the current one, plus every backend carrying our application_name."""
    return [row["pid"] for row in fetch_all(
        "SELECT pid FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        " OR (%(app)s <> '' AND application_name = %(app)s AND datname = current_database()"
        " AND usename = current_user)",
        {"app": application_name or ""},
    )]


def counts_for_metrics(threshold_seconds):
    return fetch_one(
        "SELECT count(*) FILTER (WHERE state = 'active' AND now() - query_start > make_interval(secs => %s))"
        " AS long_running, count(*) FILTER (WHERE cardinality(pg_blocking_pids(pid)) > 0) AS blocked"
        " FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND datname = current_database()",
        [float(threshold_seconds)],
    )
