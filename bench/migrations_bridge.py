"""Cost of the Alembic bridge: `migrate` of the mirrored app with the bridge's hooks vs without them, and the
bridge's state read (admin screen / API) vs Django's own migration loader. On a scratch database."""

import time
import uuid
from io import StringIO

import psycopg
from django.apps import apps
from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import post_delete, post_migrate, post_save, pre_migrate
from psycopg import sql

from bench.report import write_section
from dbtools.migrations_bridge.catalog import conninfo_for
from dbtools.migrations_bridge.selectors import bridge_state
from dbtools.migrations_bridge.signals import connect_bridge

# "default", pointed at a scratch database: accounts.0002_roles' RunPython only works on the default alias.
ALIAS, ROUNDS = "default", 5


def _disconnect():
    config = apps.get_app_config("dbtools")
    pre_migrate.disconnect(sender=config, dispatch_uid="alembic_bridge_pre_migrate")
    post_migrate.disconnect(sender=config, dispatch_uid="alembic_bridge_post_migrate")
    post_save.disconnect(sender=MigrationRecorder.Migration, dispatch_uid="alembic_bridge_recorded")
    post_delete.disconnect(sender=MigrationRecorder.Migration, dispatch_uid="alembic_bridge_unrecorded")


def _round_trip():
    start = time.perf_counter()
    call_command("migrate", "blog", "zero", database=ALIAS, verbosity=0, stdout=StringIO())
    call_command("migrate", database=ALIAS, verbosity=0, stdout=StringIO())
    return time.perf_counter() - start


def _migrate_costs():
    """Alternating rounds (after a warm-up), so caches and server state favour neither side."""
    _round_trip()
    with_hooks = without_hooks = 0.0
    for _ in range(ROUNDS):
        with_hooks += _round_trip()
        _disconnect()
        try:
            without_hooks += _round_trip()
        finally:
            connect_bridge(apps.get_app_config("dbtools"))
            call_command("alembic", "sync", database=ALIAS, stdout=StringIO())
    return with_hooks / ROUNDS, without_hooks / ROUNDS


def _timed(func, repeat=20):
    start = time.perf_counter()
    for _ in range(repeat):
        func()
    return (time.perf_counter() - start) / repeat


def _measure():
    call_command("migrate", database=ALIAS, verbosity=0, stdout=StringIO())
    with_hooks, without_hooks = _migrate_costs()
    state = _timed(lambda: bridge_state(ALIAS))
    state_light = _timed(lambda: bridge_state(ALIAS, with_models=False))
    loader = _timed(lambda: MigrationExecutor(connections[ALIAS]).loader)
    return with_hooks, without_hooks, state, state_light, loader


def _point_default_at(name):
    connection = connections[ALIAS]
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()
    connection.settings_dict["NAME"] = name


def run():
    default = connections[ALIAS].settings_dict
    original, name = default["NAME"], f"pgdeck_bench_{uuid.uuid4().hex[:8]}"
    admin = conninfo_for(default)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _point_default_at(name)
    try:
        with_hooks, without_hooks, state, state_light, loader = _measure()
    finally:
        _point_default_at(original)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    hooked, light, full = with_hooks / without_hooks, state_light / loader, state / loader
    body = f"""
| measure | time | ratio |
| --- | --- | --- |
| `migrate blog zero` + `migrate`, Django alone (baseline) | {without_hooks * 1000:.0f} ms | 1.00 |
| same, with the bridge (alembic_version in step, migrations_log rows) | {with_hooks * 1000:.0f} ms | {hooked:.2f} |
| Django's migration loader (what `showmigrations` reads; baseline) | {loader * 1000:.1f} ms | 1.00 |
| bridge state, no model-change check (`manage.py alembic current`) | {state_light * 1000:.1f} ms | {light:.2f} |
| bridge state with the model-change check (admin screen, API, `check`) | {state * 1000:.1f} ms | {full:.2f} |

{ROUNDS} round trips on a scratch database (server: {default.get("HOST") or "localhost"}).
"""
    write_section("migrations_bridge", "Alembic bridge overhead", body)
    print(body)
