"""Adopt a database that Alembic (or the seed's SQL) created: check that its schema is what the paired Django
migrations would build, then record those migrations as applied. Nothing changes when the schema differs."""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from psycopg import sql

from config.dbcheck import first_line
from dbtools.migrations_bridge import log
from dbtools.migrations_bridge.catalog import catalog_diff, catalog_snapshot, conninfo_for, public_tables
from dbtools.migrations_bridge.hooks import applied_mirrored
from dbtools.migrations_bridge.revisions import position, revision_chain
from dbtools.migrations_bridge.services import BridgeError, _resolve
from dbtools.migrations_bridge.version_table import MultipleVersionRows, version_rows


@dataclass
class AdoptResult:
    revision: str
    recorded: list = field(default_factory=list)  # "app.migration" names now recorded as applied


class AdoptRefused(BridgeError):
    def __init__(self, message, diff):
        super().__init__(message, "schema_mismatch")
        self.diff = diff


@contextmanager
def scratch_database(settings_dict):
    """A throw-away empty database on the same server (dropped on exit)."""
    name = f"pgdeck_adopt_{uuid.uuid4().hex[:12]}"
    admin = conninfo_for(settings_dict)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise BridgeError("adopt builds the expected schema in a scratch database and could not create one "
                          f"({first_line(exc)}); grant CREATEDB to this role or adopt as one that has it",
                          "scratch_database")
    try:
        yield conninfo_for(settings_dict, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def expected_schema_diff(connection, pair):
    """Diff lines between the live schema and what Django's migrations up to `pair` build on an empty database."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan([pair.key], clean_start=True)
    script = "\n".join(executor.loader.collect_sql(plan))
    with scratch_database(connection.settings_dict) as scratch:
        try:
            with psycopg.connect(scratch) as conn:
                conn.execute(script)
        except psycopg.Error as exc:
            raise BridgeError(f"the migrations up to {pair.django_name} did not run on an empty database "
                              f"({first_line(exc)}): cannot tell what the schema should be", "scratch_database")
        tables = public_tables(scratch)
        expected = catalog_snapshot(scratch, tables)
    actual = catalog_snapshot(conninfo_for(connection.settings_dict), tables)
    return catalog_diff(expected, actual, f"migrations up to {pair.django_name}", "live database")


def _target(connection, chain):
    versions = version_rows(connection)
    if len(versions) > 1:
        raise BridgeError(str(MultipleVersionRows(versions)), "multiple_versions")
    if not versions:
        raise BridgeError("alembic_version is empty: there is nothing to adopt (a new database needs "
                          "`manage.py migrate`)", "nothing_to_adopt")
    return _resolve(versions[0], chain)


def migrations_adopt(*, using="default", user=""):
    """Record the mirrored Django migrations up to alembic_version's revision as applied, if the schema matches."""
    connection = connections[using]
    chain = revision_chain()
    pair = _target(connection, chain)
    index = position(pair.revision, chain)
    applied = applied_mirrored(connection)
    ahead = [p.django_name for p in chain[index + 1:] if p.key in applied]
    if ahead:
        raise BridgeError(f"Django has already applied {', '.join(ahead)}, past alembic_version's "
                          f"{pair.revision}: use `manage.py alembic sync` instead", "drift")
    missing = [p for p in chain[:index + 1] if p.key not in applied]
    if not missing:
        return AdoptResult(pair.revision)
    diff = expected_schema_diff(connection, pair)
    if diff:
        message = f"the schema does not match the migrations up to {pair.django_name}; nothing was changed"
        log.write_rows([log.LogRow(action="adopt", status="failed", revision=pair.revision, user=user,
                                   app_label=pair.app_label, django_migration=pair.name,
                                   error=message + "\n" + "\n".join(diff))], using)
        raise AdoptRefused(message, diff)
    recorder = MigrationRecorder(connection)
    with transaction.atomic(using=using):
        for missing_pair in missing:
            recorder.record_applied(missing_pair.app_label, missing_pair.name)
    log.write_rows([log.LogRow(action="adopt", status="success", revision=pair.revision, user=user,
                               app_label=pair.app_label, django_migration=pair.name)], using)
    return AdoptResult(pair.revision, [p.django_name for p in missing])
