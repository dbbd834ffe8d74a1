"""The connection seam: every purpose and every old caller carries the target's TLS options; one implementation."""

import copy

import psycopg
import pytest
from django.conf import settings as django_settings

from targets import seam
from targets.errors import TargetInvalid, TargetNotFound, TargetUnavailable
from targets.models import Target

pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
TLS = {"sslmode": "verify-full", "sslrootcert": "/nonexistent/root.crt"}


@pytest.fixture
def tls_default(settings):
    """DATABASES["default"] as DB_SSLMODE=verify-full + DB_SSLROOTCERT would make it."""
    databases = copy.deepcopy(django_settings.DATABASES)
    databases["default"]["OPTIONS"].update(TLS)
    settings.DATABASES = databases
    return databases["default"]


@pytest.mark.parametrize("purpose", seam.PURPOSES)
def test_every_purpose_keeps_the_tls_options(tls_default, purpose):
    params = seam.connect_kwargs("default", purpose)
    assert params["sslmode"] == "verify-full" and params["sslrootcert"] == TLS["sslrootcert"]
    assert "sslmode=verify-full" in seam.conninfo("default", purpose)


def test_tool_env_carries_tls_and_the_password_only_in_pgpassword(settings, tls_default):
    databases = copy.deepcopy(settings.DATABASES)
    databases["default"]["PASSWORD"] = "s3cret-pw"
    settings.DATABASES = databases
    argv, env = seam.tool_args_env("default", "backup")
    assert env["PGSSLMODE"] == "verify-full" and env["PGSSLROOTCERT"] == TLS["sslrootcert"]
    assert env["PGPASSWORD"] == "s3cret-pw"
    assert not any("s3cret-pw" in arg for arg in argv)
    assert "--username" in argv


def test_sqlalchemy_url_keeps_tls(tls_default):
    url = seam.sqlalchemy_url("default", "alembic")
    assert url.startswith("postgresql+psycopg://") and "sslmode=verify-full" in url and "sslrootcert=" in url


def test_the_old_callers_go_through_the_seam(tls_default):
    from dbtools.backups.tools import client_env, connection_fields
    from dbtools.migrations_bridge import log
    from dbtools.migrations_bridge.catalog import conninfo_for
    from dbtools.migrations_bridge.urls_sqlalchemy import sqlalchemy_url_from_fields
    from dbtools.query.connection import conninfo

    assert conninfo("read")["sslmode"] == "verify-full"
    assert conninfo("write")["sslrootcert"] == TLS["sslrootcert"]
    assert client_env()["PGSSLMODE"] == "verify-full"
    assert connection_fields("postgres")["sslmode"] == "verify-full"
    assert "sslmode=verify-full" in conninfo_for(tls_default, "postgres")
    assert "sslmode=verify-full" in log._conninfo("default")  # the migrations_log writer (issue 14's bug)
    assert "sslmode=verify-full" in sqlalchemy_url_from_fields(tls_default)


def test_query_url_is_kept_and_inherits_tls_unless_it_sets_its_own(settings, tls_default):
    settings.QUERY_DATABASE_URL = "postgresql://reader:pw@db.example.com:6543/shop"
    params = seam.connect_kwargs("default", "query-read")
    assert (params["host"], params["port"], params["user"], params["dbname"]) == (
        "db.example.com", "6543", "reader", "shop")
    assert params["sslmode"] == "verify-full" and params["application_name"] == "pgdeck-query"
    settings.QUERY_DATABASE_URL = "postgresql://reader:pw@db.example.com:6543/shop?sslmode=require"
    assert seam.connect_kwargs("default", "query-read")["sslmode"] == "require"
    settings.QUERY_DATABASE_URL = "mysql://x@y/z"
    with pytest.raises(TargetUnavailable, match="PostgreSQL only"):
        seam.connect_kwargs("default", "query-read")


def test_default_query_purposes_log_in_as_the_query_roles(settings):
    settings.QUERY_DATABASE_URL = settings.QUERY_WRITE_DATABASE_URL = ""
    assert seam.connect_kwargs("default", "query-read")["user"] == settings.QUERY_ROLE
    assert seam.connect_kwargs("default", "query-write")["user"] == settings.QUERY_WRITE_ROLE
    assert "options" not in seam.connect_kwargs("default", "backup")


def test_unknown_purpose_and_unknown_target_are_clear(db):
    with pytest.raises(TargetInvalid, match="unknown connection purpose"):
        seam.connect_kwargs("default", "everything")
    with pytest.raises(TargetNotFound, match="'nope'"):
        seam.connect_kwargs("nope", "app")


def test_a_registered_target_connects_with_its_own_decrypted_credential(db):
    default = seam.default_spec()
    target = Target(name="again", host=default.host, port=int(default.port or 5432), dbname=default.dbname,
                    user=default.user, sslmode="disable", environment="staging")
    target.password = "pw-not-stored-plain"
    target.save()
    stored = Target.objects.get(name="again")
    assert "pw-not-stored-plain" not in stored.password_encrypted and stored.password == "pw-not-stored-plain"
    spec = seam.spec("again")
    assert (spec.name, spec.environment, spec.is_default, spec.options["sslmode"]) == ("again", "staging", False,
                                                                                       "disable")
    assert "pw-not-stored-plain" not in repr(spec)
    params = seam.connect_kwargs("again", "monitoring", password=default.password or None)
    with psycopg.connect(**params) as conn:
        assert conn.execute("SELECT current_setting('application_name')").fetchone()[0] == "pgdeck-monitoring"


def test_the_default_target_really_connects_for_the_app(db):
    with psycopg.connect(**seam.connect_kwargs("default", "app")) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
