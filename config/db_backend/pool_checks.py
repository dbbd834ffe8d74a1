"""A cheaper health check for pooled connections.

Checking every checkout (Django's CONN_HEALTH_CHECKS with a pool) costs a round trip per request. A connection
handed back less than FRESH_SECONDS ago was working then, so only connections that sat idle longer — the ones a
server restart or an idle timeout may have killed — are pinged before use.
"""

import time

from psycopg_pool import ConnectionPool

FRESH_SECONDS = 1.0


def mark_returned(conn):
    """Pool `reset` callback: remember when the connection came back (it is idle and working)."""
    conn._pgdeck_returned_at = time.monotonic()


def check_unless_fresh(conn):
    """Pool `check` callback: ping connections idle for more than FRESH_SECONDS; raise to discard a dead one."""
    returned = getattr(conn, "_pgdeck_returned_at", None)
    if returned is not None and time.monotonic() - returned < FRESH_SECONDS:
        return
    ConnectionPool.check_connection(conn)
