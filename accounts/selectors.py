"""Reads for accounts."""

import json

from django.utils import timezone

from accounts import keys
from accounts.models import ApiKey, User
from accounts.roles import ADMIN

# reason code → the message an API client sees (the reason code becomes the error code `key_<reason>`).
REJECTION_MESSAGES = {
    "malformed": "The API key is malformed; expected pgd_<prefix>_<secret>.",
    "invalid": "The API key is not valid.",
    "revoked": "The API key has been revoked.",
    "expired": "The API key has expired.",
    "inactive_user": "The API key's owner is deactivated.",
}


class KeyRejected(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason
        self.message = REJECTION_MESSAGES[reason]


# One round trip per authenticated request: the key, its owner and the owner's permissions (from their own
# permissions and their groups, as Django's ModelBackend computes them), so `has_perm` needs no further query.
KEY_LOOKUP_SQL = """
SELECT u.*,
       k.id AS apikey_id, k.name AS apikey_name, k.key_hash AS apikey_hash, k.scopes AS apikey_scopes,
       k.created_at AS apikey_created_at, k.expires_at AS apikey_expires_at, k.last_used AS apikey_last_used,
       k.revoked_at AS apikey_revoked_at,
       ARRAY(SELECT ct.app_label || '.' || p.codename
               FROM accounts_user_user_permissions up
               JOIN auth_permission p ON p.id = up.permission_id
               JOIN django_content_type ct ON ct.id = p.content_type_id
              WHERE up.user_id = u.id) AS apikey_user_perms,
       ARRAY(SELECT ct.app_label || '.' || p.codename
               FROM accounts_user_groups ug
               JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
               JOIN auth_permission p ON p.id = gp.permission_id
               JOIN django_content_type ct ON ct.id = p.content_type_id
              WHERE ug.user_id = u.id) AS apikey_group_perms
  FROM api_keys k
  JOIN accounts_user u ON u.id = k.user_id
 WHERE k.prefix = %s
"""


def _api_key_with_owner(prefix):
    """The ApiKey of `prefix` with its user (permission caches filled), or None."""
    owner = next(iter(User.objects.raw(KEY_LOOKUP_SQL, [prefix])), None)
    if owner is None:
        return None
    scopes = owner.apikey_scopes
    api_key = ApiKey(
        id=owner.apikey_id, name=owner.apikey_name, prefix=prefix, key_hash=owner.apikey_hash, user=owner,
        scopes=json.loads(scopes) if isinstance(scopes, str) else scopes, created_at=owner.apikey_created_at,
        expires_at=owner.apikey_expires_at, last_used=owner.apikey_last_used, revoked_at=owner.apikey_revoked_at,
    )
    api_key._state.adding, api_key._state.db = False, "default"
    if not owner.is_superuser:  # a superuser's has_perm never asks the backend
        owner._user_perm_cache, owner._group_perm_cache = set(owner.apikey_user_perms), set(owner.apikey_group_perms)
        owner._perm_cache = owner._user_perm_cache | owner._group_perm_cache
    return api_key


def api_key_authenticate(plaintext):
    """Return the active ApiKey for `plaintext` or raise KeyRejected(reason). Never logs the key."""
    prefix = keys.split_key(plaintext)
    if prefix is None:
        raise KeyRejected("malformed")
    api_key = _api_key_with_owner(prefix)
    if api_key is None or not keys.key_matches(plaintext, api_key.key_hash):
        raise KeyRejected("invalid")
    if api_key.revoked_at is not None:
        raise KeyRejected("revoked")
    if api_key.expires_at is not None and api_key.expires_at <= timezone.now():
        raise KeyRejected("expired")
    if not api_key.user.is_active:
        raise KeyRejected("inactive_user")
    return api_key


def user_manages_all_keys(user):
    return bool(user.is_active and (user.is_superuser or user.role == ADMIN))


def api_keys_visible_to(user):
    """Admins see every key; everyone else only their own."""
    queryset = ApiKey.objects.select_related("user")
    if user_manages_all_keys(user):
        return queryset
    return queryset.filter(user=user)


def api_key_list(*, user=None):
    """Keys for `list_api_keys`: all, or one owner's, newest first."""
    queryset = ApiKey.objects.select_related("user").order_by("-created_at")
    return queryset.filter(user=user) if user is not None else queryset
