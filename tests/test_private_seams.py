"""Canaries for what we take from libraries beyond their documented API (issue 19: guard the private seams).

Each fails loudly if an upgrade of psycopg, psycopg_pool or Django moves what we hook, instead of the app falling
back silently to slower or weaker behaviour."""

import time

import psycopg
import pytest
from django.contrib import admin
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from psycopg_pool import ConnectionPool

from config.db_backend.pool_checks import FRESH_SECONDS, check_unless_fresh, mark_returned
from dbtools.query import runner, value_sizes
from dbtools.query.runner import StreamingCursor, execute_statement
from dbtools.query.safety import split_statements
from tests.catalog import conninfo_for


def test_the_pool_uses_our_health_check_through_its_public_options(db):
    pool = connection.pool
    if pool is None:
        pytest.skip("no app-side pool (DB_PGBOUNCER=1 or DB_POOL=false)")
    # reset goes through the public OPTIONS["pool"]; check replaces Django's in config.db_backend
    assert pool._check is check_unless_fresh and pool._reset is mark_returned


def test_the_pool_hooks_are_in_effect(db, monkeypatch):
    """Not only installed: a returned connection is marked by `reset`, and `check` pings only stale ones."""
    pool = connection.pool
    if pool is None:
        pytest.skip("no app-side pool (DB_PGBOUNCER=1 or DB_POOL=false)")
    pings = []
    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(pings.append))
    conn = pool.getconn()
    before = time.monotonic()
    returned(pool, conn)
    assert conn._pgdeck_returned_at >= before  # mark_returned ran when it came back
    for each in pool._pool:  # every idle connection stale: the next checkout is pinged
        each._pgdeck_returned_at = time.monotonic() - 10 * FRESH_SECONDS
    pings.clear()
    stale = pool.getconn()
    assert pings == [stale]
    returned(pool, stale)
    for each in pool._pool:  # every idle connection fresh: no round trip
        each._pgdeck_returned_at = time.monotonic()
    pings.clear()
    fresh = pool.getconn()
    assert pings == []
    returned(pool, fresh)


def returned(pool, conn):
    """putconn, then wait for the pool's worker to reset it back into the idle list (a `reset` pool returns
    connections in a background task)."""
    pool.putconn(conn)
    for _ in range(500):
        if conn in pool._pool:
            return
        time.sleep(0.01)
    raise AssertionError("the pool did not take the connection back")


def test_streaming_cursor_is_what_psycopg_calls(db, monkeypatch):
    """psycopg's Cursor.stream() drives our _stream_fetchone_gen: rows stream, and a statement without rows keeps
    its command tag (psycopg's own generator would drop it)."""
    calls = []
    original = StreamingCursor._stream_fetchone_gen

    def spy(self, first):
        calls.append(first)
        return (yield from original(self, first))

    monkeypatch.setattr(runner.StreamingCursor, "_stream_fetchone_gen", spy)
    with psycopg.connect(conninfo_for(connection.settings_dict, connection.settings_dict["NAME"])) as conn:
        (select,) = split_statements("select g from generate_series(1, 3) g")
        columns, rows, count, _truncated, command = execute_statement(conn, select, None, keep=10)
        assert [row[0] for row in rows] == [1, 2, 3] and count == 3 and command == "SELECT 3"
        assert calls and calls[0] is True
        calls.clear()
        (setting,) = split_statements("set local work_mem = '8MB'")
        columns, rows, count, _truncated, command = execute_statement(conn, setting, None, keep=10)
        assert rows == [] and command == "SET" and calls


def test_streaming_cursor_overrides_what_psycopg_still_calls():
    """StreamingCursor replaces Cursor._stream_fetchone_gen and uses _tx / _make_row_maker / _raise_for_result."""
    for name in ("_stream_fetchone_gen", "_make_row_maker", "_raise_for_result", "_stream_send_gen"):
        assert hasattr(psycopg.Cursor, name), f"psycopg.Cursor.{name} is gone: dbtools/query/runner.py must change"
    import inspect

    assert "_stream_fetchone_gen" in inspect.getsource(psycopg.Cursor.stream)
    assert StreamingCursor._stream_fetchone_gen is not psycopg.Cursor._stream_fetchone_gen


def test_value_sizes_come_from_libpq_without_a_copy():
    assert value_sizes.in_effect()


def test_django_reads_the_permission_cache_the_key_lookup_fills(make_user):
    user = make_user("viewer")
    user._perm_cache = {"dbtools.pgdeck_canary"}
    assert ModelBackend().get_all_permissions(user) == {"dbtools.pgdeck_canary"}


def test_admin_site_still_keeps_its_registry():
    """Django's AdminSite keeps its ModelAdmins in site._registry (pgdeck reaches them via get_model_admin)."""
    from blog.models import Post

    site = admin.site
    assert isinstance(site._registry, dict) and Post in site._registry


def test_monitoring_still_sees_the_pools_idle_connections(db):
    """dbtools/monitoring/services.app_backend_pids reads psycopg_pool's idle list (`_pool`) so monitoring never
    cancels pgdeck's own idle connections; fails if an upgrade renames it."""
    from dbtools.monitoring.services import app_backend_pids

    pool = connection.pool
    if pool is None:
        pytest.skip("no app-side pool (DB_PGBOUNCER=1 or DB_POOL=false)")
    conn = pool.getconn()
    pid = conn.info.backend_pid
    returned(pool, conn)
    assert conn in pool._pool and pid in app_backend_pids()


def test_django_pooled_connect_is_what_our_backend_repeats():
    """config/db_backend/base.py replaces the pooled branch of get_new_connection (it must not wait on the pool
    for DB_POOL_TIMEOUT during an outage) and calls _configure_connection on its direct connections."""
    import inspect

    from django.db.backends.postgresql import base as django_base

    source = inspect.getsource(django_base.DatabaseWrapper.get_new_connection)
    assert "self.pool.getconn()" in source and "isolation_level" in source
    assert "self.connection._pool.putconn" in inspect.getsource(django_base.DatabaseWrapper._close)
    assert callable(django_base.DatabaseWrapper._configure_connection)
