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


def login_role_for(user, mode="read"):
    """The role a run of `user` logs in as: their own, unless per-user roles are off (e.g. behind PgBouncer)."""
    from django.conf import settings

    from dbtools.query.roles import role_name, user_role_name

    return user_role_name(mode, user.pk) if settings.QUERY_PER_USER_ROLES else role_name(mode)


CANARY_STATE = """
SELECT (SELECT count(*) FROM pg_largeobject_metadata),
       (SELECT count(*) FROM pg_prepared_xacts),
       (SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
         WHERE r.rolname LIKE 'pgdeck_query%%'),
       (SELECT last_value FROM posts_id_seq),
       (SELECT count(*) FROM posts), (SELECT count(*) FROM users),
       (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')
"""


def canary_state():
    """What an escaped statement would change: data, sequences, large objects, role settings, prepared xacts."""
    with connection.cursor() as cursor:
        cursor.execute(CANARY_STATE)
        return cursor.fetchone()
