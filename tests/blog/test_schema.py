"""The migrated tables are exactly the seed's DDL (plus pgdeck's named search indexes): compare PostgreSQL's
catalog of both."""

import psycopg
from django.db import connection

from blog import seed_schema
from blog.search_schema import SEARCH_INDEXES, SEARCH_INDEXES_DDL
from tests.catalog import catalog_snapshot, conninfo_for


def test_migrated_catalog_equals_seed_ddl(db, scratch_db):
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        conn.execute(seed_schema.USERS_DDL)
        conn.execute(seed_schema.POSTS_DDL)
        conn.execute(SEARCH_INDEXES_DDL)
    migrated = catalog_snapshot(conninfo_for(connection.settings_dict))
    seeded = catalog_snapshot(scratch_db)
    assert migrated == seeded
    # The comparison must look at the things the issue names, or it could pass vacuously.
    names = {row[1] for row in migrated["indexes"]}
    assert names == {"users_pkey", "users_username_key", "users_email_key", "idx_users_username",
                     "idx_users_email", "posts_pkey", "idx_posts_user_id", "idx_posts_is_published", *SEARCH_INDEXES}
    fk = [row for row in migrated["constraints"] if row[2] == "f"]
    assert fk and fk[0][3] == "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE"
    assert fk[0][4:6] == (False, False)  # not deferrable, not deferred


def test_catalog_comparison_notices_a_difference(db, scratch_db):
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        conn.execute(seed_schema.USERS_DDL.replace("VARCHAR(50)", "VARCHAR(60)"))
        conn.execute(seed_schema.POSTS_DDL)
    assert catalog_snapshot(conninfo_for(connection.settings_dict)) != catalog_snapshot(scratch_db)
