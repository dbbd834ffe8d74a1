"""A per-process cache of API key rows that PostgreSQL empties whenever anything they were built from changes.

Why: the key lookup is the one database round trip a key adds to a request (plus, on endpoints that touch no
table, the pool checkout): 15–40% of throughput. A TTL would make revocation late; instead statement triggers
(accounts migration 0003) NOTIFY `pgdeck_api_key_auth` when a transaction that changes api_keys (except
last_used), admin users, group membership or permissions commits, whoever wrote it: admin, API, psql, Alembic.
Each process holds one LISTEN connection in a daemon thread and clears its cache on every notification.

What keeps "revocation and expiry take effect on the next request":
- entries are served only while the listener is connected; when it drops they are cleared and bypassed until
  it has re-LISTENed (a notification missed while down can never leave a stale entry);
- a hit first polls the listener's socket without blocking: a notification that has arrived but is not yet
  handled makes it a miss; PostgreSQL signals listeners at commit, before the writer is told it committed;
- a row read from the database is stored only if no notification arrived while it was being read;
- the row keeps expires_at, revoked_at and the owner's flags, so every check still runs on every request;
- this process's own writes also clear it at commit (accounts.signals), without waiting for the round trip.
Transaction pooling (DB_PGBOUNCER=1) cannot LISTEN, so there the cache is off and every request reads the row.
"""

import logging
import os
import select
import threading

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import pq

from config.db_backend.pool_checks import socket_readable
from config.dbcheck import direct_params, first_line

logger = logging.getLogger("pgdeck.accounts.key_cache")

CHANNEL = "pgdeck_api_key_auth"
MAX_ENTRIES = 10_000  # a bound, not a tuning knob: past it the cache starts over
RETRY_SECONDS = 1.0
# Keepalives make a silently dead TCP peer an error within ~11 s, so the listener cannot wait on it forever.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}


def enabled():
    database = connections["default"].settings_dict
    return bool(getattr(settings, "API_KEY_CACHE", False)) and not database.get("DISABLE_SERVER_SIDE_CURSORS")


def _listener_params():
    database = connections["default"].settings_dict
    over_tcp = not str(database.get("HOST") or "").startswith("/")
    return direct_params(database, **(KEEPALIVES if over_tcp else {}))


class Listener(threading.Thread):
    """LISTENs on its own connection; clears `cache` on each notification, on connect and on disconnect."""

    def __init__(self, cache, params):
        super().__init__(name="pgdeck-key-cache", daemon=True)
        self.cache, self.params = cache, params
        self.connected = threading.Event()
        self.pending = False  # a notification is being handled
        self.fd = -1
        self.backend_pid = None
        self.stopping = False

    def fresh(self):
        """True when no notification can be waiting: connected, none being handled, none on the socket."""
        return self.connected.is_set() and not self.pending and not socket_readable(self.fd)

    def run(self):
        failures = 0
        while not self.stopping:
            try:
                with psycopg.connect(autocommit=True, **self.params) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.fd, self.backend_pid = conn.pgconn.socket, conn.info.backend_pid
                    self.cache.clear()  # rows read before LISTEN may predate a change we were not told about
                    self.connected.set()
                    failures = 0
                    self._drain(conn.pgconn)
            except psycopg.Error as exc:
                failures += 1
                if failures == 1:
                    logger.warning("api key cache off until its LISTEN connection is back: %s", first_line(exc))
            finally:
                self.connected.clear()
                self.cache.clear()
            if not self.stopping:
                threading.Event().wait(RETRY_SECONDS)

    def _drain(self, pgconn):
        poller = select.poll()
        poller.register(self.fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        while not self.stopping:
            events = poller.poll(250)  # also how soon stop() is noticed
            if not events:
                continue
            self.pending = True
            try:
                pgconn.consume_input()  # raises OperationalError when the server has gone
                if pgconn.status != pq.ConnStatus.OK:
                    return
                while pgconn.notifies() is not None:
                    pass
                self.cache.clear()
            finally:
                self.pending = False
            if any(flags & (select.POLLERR | select.POLLHUP) for _fd, flags in events):
                return


class KeyCache:
    """prefix → the key lookup's row; see the module docstring for when an entry may be served."""

    def __init__(self):
        self._rows = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._listener = None
        self._pid = None

    def listener(self):
        """This process's listener, started on first use (after a fork, a new one: threads do not survive)."""
        if self._pid != os.getpid() or self._listener is None:
            with self._lock:
                if self._pid != os.getpid() or self._listener is None:
                    self._rows, self._pid = {}, os.getpid()
                    self._listener = Listener(self, _listener_params())
                    self._listener.start()
        return self._listener

    def get(self, prefix):
        row = self._rows.get(prefix)
        if row is None or not self.listener().fresh():
            return None
        return row

    def generation(self):
        """Take before reading a row from the database; pass to put()."""
        self.listener()
        return self._generation

    def put(self, prefix, row, generation):
        with self._lock:
            listener = self._listener
            if generation != self._generation or listener is None or not listener.connected.is_set():
                return False  # something changed (or may have) while the row was read
            if len(self._rows) >= MAX_ENTRIES:
                self._rows = {}
            self._rows[prefix] = row
            return True

    def forget(self, prefix):
        self._rows.pop(prefix, None)

    def clear(self):
        with self._lock:
            self._generation += 1
            self._rows = {}

    def __len__(self):
        return len(self._rows)

    def stop(self, timeout=5):
        """Stop the listener and close its connection (tests and benches that drop their database after)."""
        with self._lock:
            listener, self._listener, self._pid = self._listener, None, None
        if listener is not None:
            listener.stopping = True
            listener.join(timeout)
        self.clear()

    def wait_ready(self, timeout):
        """Block until the listener is LISTENing (tests, and the first requests after a start)."""
        return self.listener().connected.wait(timeout)


key_cache = KeyCache()
