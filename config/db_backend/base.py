"""Django's PostgreSQL backend, failing fast when the server is down instead of waiting out the pool.

A pooled getconn() waits up to DB_POOL_TIMEOUT (the seed's 30 s) for a connection. That is right while the
pool is merely busy, wrong while PostgreSQL is unreachable: every request would hang for 30 s. So the pool is
first asked with a short wait; if that runs out, one direct connection attempt tells "busy" from "down":
no server answered (refused, no socket, DNS, timeout) → 503 now (and the pool is marked down, see outage.py); the
server answered "too many clients" or "starting up" → busy: wait on the pool (DB_POOL_TIMEOUT → database_busy;
starting up: STARTING_WAIT); accepted → the server is up but the pool has nothing to give yet (busy, or still
reconnecting after an outage): that direct connection serves the request.
"""

import time

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base
from django.db.utils import OperationalError
from psycopg import IsolationLevel
from psycopg_pool import PoolTimeout

from config.db_backend import outage
from config.db_backend.pool_checks import check_unless_fresh

FIRST_WAIT = 0.5  # a slice of a wait on the pool; after the first, one direct probe
READY_WAIT = 0.01  # while marked down: take a connection only if one is ready now
PROBE_TIMEOUT = 1  # psycopg makes it at least 2 s; a stopped server refuses at once
# A server starting up is waited on (asked again each slice) this long per request, then 503: an outage's answers
# stay within 2 s, and a request sent during the restart is served as soon as the server is ready.
STARTING_WAIT = 1.0
STARTING_SLICE = 0.1  # how often a request asks a server that is starting up again
DIRECT = "_pgdeck_direct"  # marks a connection that is not the pool's (closed, not returned, at the end)


class ServerBusy(Exception):
    """A direct attempt the server answered "full" or "starting up": not down, so the request waits on the pool."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        if pool is not None and pool._check is not check_unless_fresh:
            # Django passes check=ConnectionPool.check_connection (a round trip per checkout) and offers no option
            # to replace it; psycopg_pool keeps it in _check. Loud, not silent, if an upgrade moves it
            # (tests/test_private_seams.py also asserts it is in effect).
            if not hasattr(pool, "_check"):
                raise ImproperlyConfigured("psycopg_pool.ConnectionPool has no _check: update config/db_backend")
            pool._check = check_unless_fresh
        return pool

    def get_new_connection(self, conn_params):
        pool = self.pool
        if not pool:
            return super().get_new_connection(conn_params)
        pool.open()
        connection = self._checkout(pool)
        # What Django's get_new_connection does after its own getconn().
        level = self.settings_dict["OPTIONS"].get("isolation_level")
        try:
            self.isolation_level = IsolationLevel(level) if level is not None else IsolationLevel.READ_COMMITTED
        except ValueError:
            raise ImproperlyConfigured(f"Invalid transaction isolation level {level} specified. "
                                       "Use one of the psycopg.IsolationLevel values.") from None
        if level is not None:
            connection.isolation_level = self.isolation_level
        return connection

    def _checkout(self, pool):
        """A pooled connection; never a wait on the pool while the server is down (outage.py)."""
        started = time.monotonic()
        deadline = started + pool.timeout
        wait, probe = FIRST_WAIT, True  # the next slice of waiting on the pool; a direct attempt after it?
        while True:
            try:
                if outage.is_down(pool):
                    return self._while_down(pool, started)
                connection = self._slice(pool, wait, deadline)
                if connection is None and probe and not outage.is_down(pool):
                    probe = False
                    connection = self._probe(pool, started)
                if connection is not None:
                    return connection
            except ServerBusy as busy:
                if busy.kind == "full":  # up and full: wait on the pool (DB_POOL_TIMEOUT → database_busy)
                    outage.mark_up(pool)
                    wait, probe = FIRST_WAIT, False
                    continue
                # Starting up: ask again in a moment (STARTING_WAIT bounds it). The pool stays marked down, so the
                # process's other requests go on asking the server directly instead of waiting a 0.5 s slice on
                # a pool still empty when the server gets ready (first 200 0.38 s after it was back, measured).
                wait, probe = STARTING_SLICE, True
                if outage.is_down(pool):
                    time.sleep(STARTING_SLICE)

    @staticmethod
    def _slice(pool, wait, deadline):
        """A slice of a wait on the pool, so a wait for a busy pool notices an outage that starts meanwhile."""
        try:
            return pool.getconn(timeout=max(READY_WAIT, min(wait, deadline - time.monotonic())))
        except PoolTimeout:
            if time.monotonic() >= deadline:
                raise  # busy for all of DB_POOL_TIMEOUT: database_busy
        return None

    def _probe(self, pool, started):
        """After a slice without a pooled connection: accepted → serve the request with it while the pool is still
        refilling (e.g. just after a restart); accepted but the pool is full → None, it is merely busy."""
        connection = self._direct_or_raise(pool, started)
        if pool.get_stats().get("pool_size", 0) < pool.max_size:
            return connection
        connection.close()
        return None

    def _while_down(self, pool, started):
        """A connection ready in the pool, else one direct attempt: no answer → 503 now; accepted → the server is
        back before the pool knows it: this connection serves the request and the pool refills meanwhile."""
        # Only when one is ready: a getconn on an empty pool would queue a waiter that stays in the pool's queue
        # until a connection comes back (8,420 of them in one process after a 120 s outage).
        if pool.get_stats().get("pool_available", 0):
            try:
                return pool.getconn(timeout=READY_WAIT)
            except PoolTimeout:
                pass
        connection = self._direct_or_raise(pool, started)
        outage.mark_up(pool)
        return connection

    def _direct_or_raise(self, pool, started):
        """A direct connection, configured like the pool's; ServerBusy when the server answered full or starting
        up (for at most STARTING_WAIT of this request); else OperationalError (→ 503 database_unavailable)."""
        kwargs = {**pool.kwargs, "connect_timeout": PROBE_TIMEOUT}
        try:
            connection = psycopg.connect(pool.conninfo, **kwargs)
        except psycopg.OperationalError as exc:
            busy = outage.server_busy(exc)
            if busy == "full" or (busy == "starting" and time.monotonic() - started < STARTING_WAIT):
                raise ServerBusy(busy) from exc
            if busy is None:
                outage.mark_down(pool)
            raise OperationalError(f"database unavailable: {str(exc).strip().splitlines()[0]}") from exc
        try:
            self._configure_connection(connection)  # what the pool's `configure` does for its own connections
        except psycopg.Error:
            connection.close()
            raise
        setattr(connection, DIRECT, True)
        return connection

    def _close(self):
        if self.connection is not None and getattr(self.connection, DIRECT, False):
            with self.wrap_database_errors:
                return self.connection.close()
        return super()._close()
