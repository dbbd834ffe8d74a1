"""The key lookup: one statement returns an API key's row, its owner and the owner's permissions."""

import functools
import json
import weakref

from django.db import NotSupportedError, ProgrammingError, connection

from accounts.models import ApiKey, User

# One round trip per authenticated request: the key, its owner and the owner's permissions (their own and their
# groups', as Django's ModelBackend computes them), so `has_perm` needs no further query. The %(…)s names are
# filled once from the models' own (quoted) table and column names, never from input; the prefix is a parameter.
KEY_LOOKUP_SQL = """
SELECT k.id, k.name, k.key_hash, k.scopes, k.allowed_networks, k.targets, k.created_at, k.expires_at, k.last_used,
       k.revoked_at,
       ARRAY(SELECT ct.app_label || '.' || p.codename
               FROM auth_permission p
               JOIN django_content_type ct ON ct.id = p.content_type_id
              WHERE p.id IN (SELECT up.permission_id FROM %(user_permissions)s up WHERE up.user_id = u.id
                             UNION
                             SELECT gp.permission_id
                               FROM %(user_groups)s ug
                               JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
                              WHERE ug.user_id = u.id)),
       %(user_columns)s
  FROM api_keys k
  JOIN %(users)s u ON u.id = k.user_id
 WHERE k.prefix = %%s
"""
# In the model's field order: Model.from_db pairs values with fields by position when some are deferred.
KEY_FIELDS = ["id", "name", "key_hash", "scopes", "allowed_networks", "targets", "created_at", "expires_at",
              "last_used", "revoked_at"]
JSON_FIELDS = ("scopes", "allowed_networks", "targets")


@functools.cache
def _lookup_sql():
    user_fields = [field.attname for field in User._meta.concrete_fields]
    quote = connection.ops.quote_name
    names = {
        "user_columns": ", ".join(f"u.{quote(User._meta.get_field(name).column)}" for name in user_fields),
        "users": quote(User._meta.db_table),
        "user_permissions": quote(User.user_permissions.through._meta.db_table),
        "user_groups": quote(User.groups.through._meta.db_table),
    }
    return KEY_LOOKUP_SQL % names, user_fields


# Planning the lookup costs several times its execution (~0.2 ms of ~0.3 ms), on every request; a server-side
# prepared statement is planned once per physical connection (pooled connections live long). Each request still
# reads the rows, so revocation and expiry take effect on the next request as before.
PREPARED_NAME = "pgdeck_api_key_lookup"
_prepared_on = weakref.WeakSet()  # the psycopg connections that hold the prepared statement


def _lookup_row(cursor, sql, prefix):
    """Run the lookup, prepared where connections are ours; a plain statement behind PgBouncer's transaction
    pooling (DISABLE_SERVER_SIDE_CURSORS), where the next statement may run on another server connection."""
    raw = connection.connection
    if connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS") or raw is None:
        cursor.execute(sql, [prefix])
        return cursor.fetchone()
    if raw not in _prepared_on:
        _prepare(cursor, sql)
        _prepared_on.add(raw)
    try:
        cursor.execute(f"EXECUTE {PREPARED_NAME}(%s)", [prefix])
    except (ProgrammingError, NotSupportedError):  # deallocated (DISCARD ALL) or a table changed under the plan
        _prepared_on.discard(raw)
        if connection.in_atomic_block:
            raise
        _prepare(cursor, sql)
        _prepared_on.add(raw)
        cursor.execute(f"EXECUTE {PREPARED_NAME}(%s)", [prefix])
    return cursor.fetchone()


def _prepare(cursor, sql):
    if _is_prepared(cursor):  # e.g. prepared before this process knew the connection (a re-created wrapper)
        cursor.execute(f"DEALLOCATE {PREPARED_NAME}")
    cursor.execute(f"PREPARE {PREPARED_NAME}(text) AS {sql.replace('%s', '$1')}")


def _is_prepared(cursor):
    cursor.execute("SELECT EXISTS (SELECT FROM pg_prepared_statements WHERE name = %s)", [PREPARED_NAME])
    return cursor.fetchone()[0]


def key_row(prefix):
    """The lookup's row for `prefix` (a tuple: the key's fields, the owner's permissions, the owner's fields),
    or None. Rows are plain values, so they can be cached and turned into fresh objects per request."""
    sql, _user_fields = _lookup_sql()
    with connection.cursor() as cursor:
        row = _lookup_row(cursor, sql, prefix)
    return None if row is None else tuple(row)


def api_key_from_row(prefix, row):
    """A new ApiKey with its owner (permission cache filled, so has_perm asks nothing more) from key_row()."""
    _sql, user_fields = _lookup_sql()
    fields = len(KEY_FIELDS)
    key_values, perms, user_values = row[:fields], row[fields], row[fields + 1:]
    owner = User.from_db("default", user_fields, user_values)
    api_key = ApiKey.from_db("default", KEY_FIELDS, [
        _json(value) if name in JSON_FIELDS else value for name, value in zip(KEY_FIELDS, key_values, strict=True)
    ])
    api_key.prefix, api_key.user_id = prefix, owner.pk
    api_key.user = owner
    if not owner.is_superuser:  # a superuser's has_perm never asks the backend
        owner._perm_cache = set(perms)
    return api_key


def _json(value):
    return json.loads(value) if isinstance(value, str) else value
