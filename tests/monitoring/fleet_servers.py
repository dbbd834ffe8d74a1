"""Real servers for the fleet tests: the embedded PostgreSQL 18 (the test database), the PostgreSQL 15 service
(a database of our own on it), a throw-away cluster the tests stop and start, and a silent TCP port (accepts,
never answers)."""

import socket
import uuid

import psycopg
import pytest
from psycopg import sql

PG15 = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def pg15_available():
    try:
        socket.create_connection((PG15["host"], PG15["port"]), 2).close()
        return True
    except OSError:
        return False


class Pg15Database:
    """A database of our own on the shared PostgreSQL 15 service (name prefixed pgdeck_pg15_fleet_)."""

    def __init__(self):
        self.name = f"pgdeck_pg15_fleet_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(**PG15, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def kwargs(self):
        return {**PG15, "dbname": self.name}

    def drop(self):
        with psycopg.connect(**PG15, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))


class SilentPort:
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def kwargs(self):
        return {"host": "127.0.0.1", "port": self.port, "user": "nobody", "dbname": "nothing"}

    def close(self):
        self.sock.close()


def scratch_kwargs(cluster):
    return {"host": "127.0.0.1", "port": cluster.port, "user": "postgres", "dbname": "postgres"}


@pytest.fixture(scope="module")
def fleet_servers(django_db_blocker):
    """(scratch cluster on TCP, silent port, PG15 database or None), module-wide; probes forgotten afterwards."""
    from dbtools.monitoring import fleet
    from tests.servers import ScratchCluster

    cluster = ScratchCluster(tcp=True)
    cluster.start()
    silent = SilentPort()
    pg15 = Pg15Database() if pg15_available() else None
    yield cluster, silent, pg15
    fleet.forget()
    silent.close()
    if pg15:
        pg15.drop()
    cluster.stop("immediate")
    cluster.remove()
