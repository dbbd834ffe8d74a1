import pytest
from django.test import Client

from tests.factories import UserFactory

PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def _fleet_probes_closed():
    """The fleet probes keep a connection per target (the test database too, via /metrics): closed after each test,
    or the test database could not be dropped at the end."""
    yield
    from dbtools.monitoring import fleet

    fleet.forget()


@pytest.fixture
def make_user(db):
    """make_user("analyst") → a staff user of that role with password PASSWORD."""

    def make(role="viewer", **kwargs):
        kwargs.setdefault("username", f"{role}-user")
        if role == "admin":
            kwargs.setdefault("is_superuser", True)
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", username="admin")


@pytest.fixture
def client_for(make_user):
    """client_for("operator") → a Django test Client logged in as a user of that role."""

    def make(role="viewer", **kwargs):
        client = Client()
        client.force_login(make_user(role, **kwargs))
        return client

    return make


@pytest.fixture
def scratch_db(django_db_blocker):
    """A new empty database on the test server; yields its conninfo and drops it afterwards."""
    import uuid

    import psycopg
    from django.db import connection
    from psycopg import sql

    from tests.catalog import conninfo_for

    name = f"scratch_{uuid.uuid4().hex[:10]}"
    admin_conninfo = conninfo_for(connection.settings_dict, "postgres")
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield conninfo_for(connection.settings_dict, name)
    finally:
        with psycopg.connect(admin_conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def legacy_api_key(user, scopes, name="legacy"):
    """A key whose scopes exceed its owner's role, as when a role is lowered after the key was made.

    api_key_create refuses such scopes, so this writes the row directly; requests must still be refused.
    """
    from accounts import keys
    from accounts.models import ApiKey

    prefix, plaintext = keys.generate_key()
    ApiKey.objects.create(user=user, name=name, prefix=prefix, key_hash=keys.hash_key(plaintext), scopes=scopes)
    return plaintext
