"""Reads for accounts."""

from django.db import connection
from django.utils import timezone

from accounts import keys
from accounts.key_cache import enabled as key_cache_enabled
from accounts.key_cache import key_cache
from accounts.key_lookup import api_key_from_row, key_row
from accounts.models import ApiKey
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


def _cached_key_row(prefix):
    """The key's row from this process's cache (accounts/key_cache.py says when that is safe) or the database."""
    if not key_cache_enabled():
        return key_row(prefix)
    row = key_cache.get(prefix)
    if row is None:
        generation = key_cache.generation()
        row = key_row(prefix)
        # Inside a transaction the row may hold this transaction's own uncommitted (maybe rolled back) changes.
        if row is not None and not connection.in_atomic_block:
            key_cache.put(prefix, row, generation)
    return row


def api_key_authenticate(plaintext):
    """Return the active ApiKey for `plaintext` or raise KeyRejected(reason). Never logs the key."""
    prefix = keys.split_key(plaintext)
    if prefix is None:
        raise KeyRejected("malformed")
    row = _cached_key_row(prefix)
    api_key = None if row is None else api_key_from_row(prefix, row)
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
