"""Canaries for what we take from libraries beyond their documented API (issue 19: guard the private seams).

Each fails loudly if an upgrade of psycopg, psycopg_pool or Django moves what we hook, instead of the app falling
back silently to slower or weaker behaviour."""

import psycopg
import pytest
from django.contrib import admin
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from config.db_backend.pool_checks import check_unless_fresh, mark_returned
from dbtools.query import value_sizes
from dbtools.query.runner import StreamingCursor


def test_the_pool_uses_our_health_check_through_its_public_options(db):
    pool = connection.pool
    if pool is None:
        pytest.skip("no app-side pool (DB_PGBOUNCER=1 or DB_POOL=false)")
    # reset goes through the public OPTIONS["pool"]; check replaces Django's in config.db_backend
    assert pool._check is check_unless_fresh and pool._reset is mark_returned


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
