"""Issue 14: with DB_SSLMODE=verify-full and a root certificate that did not sign the server's, EVERY path
refuses (none silently downgrades); with the right root every path connects, so the refusals are the check's."""

import copy
import subprocess

import psycopg
import pytest
from django.conf import settings as django_settings
from sqlalchemy import create_engine, pool, text

from targets import seam

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")]
VERIFY_FAILED = "certificate verify failed"


def point_default_at(settings, cluster, rootcert):
    databases = copy.deepcopy(django_settings.DATABASES)
    databases["default"] = cluster.settings_dict(databases["default"], sslmode="verify-full",
                                                 sslrootcert=str(rootcert), application_name="pgdeck")
    settings.DATABASES = databases
    settings.QUERY_DATABASE_URL = settings.QUERY_WRITE_DATABASE_URL = ""
    settings.QUERY_PER_USER_ROLES = False
    settings.QUERY_ROLE_PASSWORD = cluster.PASSWORD
    settings.BACKUP_PG_BIN_DIRS = [str(cluster.bin)]  # Debian's client tools: built with OpenSSL
    return databases["default"]


def attempts():
    """Each path pgdeck connects by, as a callable that connects once and returns something."""
    from dbtools.backups.tools import client_env, connect, select_tools, server_version_num
    from dbtools.migrations_bridge import log
    from dbtools.query.connection import connect as query_connect

    def app():
        from config.dbcheck import check_connection

        check_connection(django_settings.DATABASES["default"])
        return True

    def pg_dump():
        tools = select_tools(0)  # BACKUP_PG_BIN_DIRS holds only the cluster's own
        result = subprocess.run([tools.path("pg_dump"), "--schema-only", "--no-password"],
                                env=client_env(), capture_output=True, text=True, timeout=60, check=False)
        if result.returncode:
            raise RuntimeError(result.stderr)
        return result.stdout

    def alembic():
        engine = create_engine(seam.sqlalchemy_url("default", "alembic"), poolclass=pool.NullPool)
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar()

    def migrations_log_writer():
        with psycopg.connect(log._conninfo("default")) as conn:
            return conn.execute("SELECT 1").fetchone()

    return {
        "app": app,
        "query-read": lambda: query_connect("read").close(),
        "query-write": lambda: query_connect("write").close(),
        "monitoring": lambda: psycopg.connect(**seam.connect_kwargs("default", "monitoring")).close(),
        "backup connection": lambda: connect().close(),
        "backup server version": lambda: server_version_num(),
        "backup pg_dump": pg_dump,
        "alembic": alembic,
        "migrations_log writer": migrations_log_writer,
    }


def test_every_path_refuses_a_certificate_the_root_did_not_sign(settings, cluster):
    point_default_at(settings, cluster, cluster.wrong_root)
    for path, attempt in attempts().items():
        with pytest.raises(Exception) as info:  # noqa: B017 - each path has its own error class
            attempt()
        assert VERIFY_FAILED in str(info.value), f"{path} did not refuse on the certificate: {info.value}"


def test_the_same_paths_connect_with_the_right_root(settings, cluster):
    point_default_at(settings, cluster, cluster.good_root)
    for path, attempt in attempts().items():
        if path.startswith("query"):
            continue  # the scratch cluster has no query roles; their refusal above is what matters
        attempt()  # raises if this path cannot connect


def test_the_connections_really_use_tls(settings, cluster):
    point_default_at(settings, cluster, cluster.good_root)
    with psycopg.connect(**seam.connect_kwargs("default", "monitoring")) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
