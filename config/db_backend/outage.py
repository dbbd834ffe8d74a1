"""What a process knows about its database being down, so that no request waits for the pool during an outage.

Measured before (tests/outage.py, gunicorn 3 workers, 4 clients): a 20 s outage gave answers of 8–28 s and the
first 200 7.8 s after PostgreSQL was back. Two causes, both in how a pool meets an outage:
- psycopg_pool retries a lost connection with exponential backoff (1, 2, 4, 8, 16 s … for `reconnect_timeout`,
  5 minutes by default), so after a long outage the pool reconnects many seconds after the server is back;
- the backend asked the pool a second time with the full DB_POOL_TIMEOUT (30 s) once a direct probe had found
  the server up, and that wait ran into the backoff.
What we do now, with psycopg_pool's public options where it has them:
- `reconnect_timeout` is short (DB_POOL_RECONNECT_TIMEOUT, 3 s), so the pool gives up a reconnection series
  quickly and grows again on demand, without a long backoff pending;
- `reconnect_failed` and a probe no server answered mark the pool down (a server that answers "full" or "starting
  up" is busy, see server_busy); while it is down, a request asks the pool only for a connection that is ready now
  and otherwise makes one direct attempt (connect_timeout): refused → 503 at once,
  accepted → that connection serves the request (the first 200 comes as soon as the server accepts), the mark is
  cleared and the pool's stale connections are checked in the background.
"""

import logging
import threading
import time

logger = logging.getLogger("pgdeck.database")

# A failed direct attempt means "down" only when no server answered (refused, no socket, DNS, no answer in time).
# A server that answers "full" or "starting up" is busy: requests wait on the pool instead of a 503
# database_unavailable (under a loaded parallel test run a full server once gave such a 503). libpq reports no
# SQLSTATE for a failed connection (psycopg's exc.sqlstate is None), so the server's message is matched; a server
# with non-English lc_messages matches nothing and is treated as down, as before.
FULL = ("too many clients already", "remaining connection slots are reserved",  # 53300
        "too many connections for role", "too many connections for database")
STARTING = ("the database system is starting up", "the database system is not yet accepting connections",  # 57P03
            "the database system is in recovery mode")

# Attribute on the psycopg_pool.ConnectionPool: monotonic time it was found down, or None.
_DOWN = "_pgdeck_down_since"


def mark_down(pool):
    """Pool `reconnect_failed` callback, also called when a direct probe fails: remember the outage."""
    if getattr(pool, _DOWN, None) is None:
        logger.warning("database unreachable: pool %s answers without waiting until it is back", pool.name)
        setattr(pool, _DOWN, time.monotonic())


def server_busy(exc):
    """'full' or 'starting' when the server answered a connection attempt with a busy state, else None (down).
    "shutting down" (also 57P03) is down on purpose: the server is going away."""
    text = str(exc)
    if any(marker in text for marker in FULL):
        return "full"
    if any(marker in text for marker in STARTING):
        return "starting"
    return None


def is_down(pool):
    return getattr(pool, _DOWN, None) is not None


def mark_up(pool):
    """The server accepted a connection again: forget the outage and replace the pool's dead connections."""
    since = getattr(pool, _DOWN, None)
    if since is None:
        return
    setattr(pool, _DOWN, None)
    logger.warning("database reachable again after %.1f s", time.monotonic() - since)
    # check() tests the idle connections (dead ones are replaced at once, without backoff) and grows the pool
    # when it is empty; in a thread, so the request that found the server back is not held by it.
    threading.Thread(target=_check_quietly, args=(pool,), name="pgdeck-pool-check", daemon=True).start()


def _check_quietly(pool):
    try:
        pool.check()
    except Exception as exc:  # the pool closed meanwhile, or the server went away again: the next request tells
        logger.info("pool check after an outage: %s", exc)
