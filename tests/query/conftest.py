import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import PostFactory


@pytest.fixture(scope="session", autouse=True)
def query_role(django_db_setup, django_db_blocker):
    """The query roles are cluster-wide; grants and CONNECT are per database, so set them up on the test DB."""
    with django_db_blocker.unblock():
        call_command("setup_query_role", stdout=io.StringIO())


def superuser_conninfo():
    db = connection.settings_dict
    return {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"] or None, "host": db["HOST"],
            "port": db["PORT"] or None, "autocommit": True}


@pytest.fixture
def blog_rows(transactional_db):
    """Committed blog rows, so the query role's own connection sees them."""
    return PostFactory.create_batch(3)


@pytest.fixture
def analyst(transactional_db, make_user):
    return make_user("analyst")


def open_superuser_connection():
    return psycopg.connect(**{k: v for k, v in superuser_conninfo().items() if v is not None})
