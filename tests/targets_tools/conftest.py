"""Registered targets for the tool tests: the PostgreSQL 15 service (a database and a least-privilege reader of
this test run's own), and targets that fail in each way (refused port, DNS, TLS required, deleted)."""

import io
import os
import socket

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from psycopg import sql

PG15 = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
READER_PASSWORD = "pw-pertarget-reader"
ITEMS = [(1, "one"), (2, "two"), (3, "three")]


def pg15_up():
    try:
        socket.create_connection((PG15["host"], PG15["port"]), 2).close()
        return True
    except OSError:
        return False


def _pg15(dbname="postgres"):
    return psycopg.connect(**PG15, dbname=dbname, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session", autouse=True)
def query_role(django_db_setup, django_db_blocker):
    """The default target's query roles, as in tests/query."""
    with django_db_blocker.unblock():
        call_command("setup_query_role", stdout=io.StringIO())


@pytest.fixture(scope="session")
def pg15_db():
    """A database and a reader role on the PostgreSQL 15 service, named for this run (xdist worker)."""
    if not pg15_up():
        pytest.skip("no PostgreSQL service at 127.0.0.1:5432")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    name, reader = f"pertarget_t15_{worker}", f"pertarget_reader_{worker}"
    with _pg15() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [reader]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD {}").format(
            sql.Identifier(reader), sql.Literal(READER_PASSWORD)))
    with _pg15(name) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)")
        conn.execute("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')")
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('abc123')")
        conn.execute(sql.SQL("GRANT SELECT ON items TO {}").format(sql.Identifier(reader)))
    yield {"dbname": name, "reader": reader}
    with _pg15() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(reader)))


def register(name, *, password="", environment="dev", **fields):
    from targets.models import Target

    target = Target(name=name, environment=environment, **fields)
    target.password = password
    target.save()
    return target


def grant(target, role, *capabilities):
    from targets.models import TargetGrant

    group, _ = Group.objects.get_or_create(name=role)
    for capability in capabilities:
        TargetGrant.objects.get_or_create(target=target, group=group, capability=capability)


@pytest.fixture
def pg15_targets(db, pg15_db):
    """pg15: the service's superuser (monitoring, backups, Alembic); pg15ro: the least-privilege reader."""
    return {
        "pg15": register("pg15", host=PG15["host"], port=PG15["port"], dbname=pg15_db["dbname"], user="postgres",
                         environment="staging", sslmode="disable"),
        "pg15ro": register("pg15ro", host=PG15["host"], port=PG15["port"], dbname=pg15_db["dbname"],
                           user=pg15_db["reader"], password=READER_PASSWORD, environment="production",
                           sslmode="disable"),
    }


@pytest.fixture
def broken_targets(db):
    """A refused port, a name no DNS resolves, TLS required by a server without TLS."""
    from tests.servers import free_port

    return {
        "refused": register("refused", host="127.0.0.1", port=free_port(), dbname="x", user="x", sslmode="disable"),
        "nodns": register("nodns", host="no-such-host.invalid", port=5432, dbname="x", user="x", sslmode="disable"),
        "tlsreq": register("tlsreq", host=PG15["host"], port=PG15["port"], dbname="postgres", user="postgres",
                           sslmode="require"),
    }
