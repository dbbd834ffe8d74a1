"""A cheaper health check for pooled connections.

Checking every checkout (Django's CONN_HEALTH_CHECKS with a pool) costs a round trip per request. A connection
handed back less than FRESH_SECONDS ago was working then, so only connections that sat idle longer — the ones a
server restart or an idle timeout may have killed — are pinged before use. A fresh one is pinged too when its
socket has something to read: an idle connection is sent nothing, except the FATAL message and end of stream
of a server that is shutting down or terminated it (found by the restart test: fresh dead connections gave 503s
for a moment after the server was back).
"""

import select
import time

from psycopg_pool import ConnectionPool

FRESH_SECONDS = 1.0


def mark_returned(conn):
    """Pool `reset` callback: remember when the connection came back (it is idle and working)."""
    conn._pgdeck_returned_at = time.monotonic()


def socket_readable(fd):
    """True when `fd` has data, an error or a hang-up waiting; never blocks (a zero-timeout poll)."""
    poller = select.poll()  # one per call: a poll object may not be polled from two threads at once
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _server_spoke(conn):
    try:
        fd = conn.pgconn.socket
    except Exception:  # no socket at all: closed or broken, let the real check say so
        return True
    return socket_readable(fd)


def check_unless_fresh(conn):
    """Pool `check` callback: ping connections idle for more than FRESH_SECONDS, or that the server wrote to;
    raise to discard a dead one."""
    returned = getattr(conn, "_pgdeck_returned_at", None)
    if returned is not None and time.monotonic() - returned < FRESH_SECONDS and not _server_spoke(conn):
        return
    ConnectionPool.check_connection(conn)
