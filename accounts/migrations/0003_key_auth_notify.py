"""NOTIFY pgdeck_api_key_auth when anything an API key check reads changes (accounts/key_cache.py listens).

Statement-level triggers, so a bulk change sends one notification; NOTIFY is sent only at commit, and identical
notifications of one transaction are folded into one. api_keys ignores updates that set only last_used (written
once a minute per key by the API itself) and inserts (a new key cannot make a cached row stale).
"""

from django.db import migrations

FUNCTION = "pgdeck_api_key_auth_changed"
CHANNEL = "pgdeck_api_key_auth"
KEY_COLUMNS = "name, prefix, key_hash, user_id, scopes, expires_at, revoked_at"
# Every table the lookup (accounts/key_lookup.py) reads, and which changes of it matter.
WATCHED = [
    ("api_keys", f"UPDATE OF {KEY_COLUMNS} OR DELETE OR TRUNCATE"),
    ("accounts_user", "UPDATE OR DELETE OR TRUNCATE"),
    ("accounts_user_groups", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("accounts_user_user_permissions", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("auth_group_permissions", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("auth_permission", "UPDATE OR DELETE OR TRUNCATE"),
    ("django_content_type", "UPDATE OR DELETE OR TRUNCATE"),
]

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
"""


def _create_trigger(table, events):
    return (f"CREATE TRIGGER {FUNCTION} AFTER {events} ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunSQL(CREATE_FUNCTION, f"DROP FUNCTION IF EXISTS {FUNCTION}();"),
        *[migrations.RunSQL(_create_trigger(table, events), f"DROP TRIGGER IF EXISTS {FUNCTION} ON {table};")
          for table, events in WATCHED],
    ]
