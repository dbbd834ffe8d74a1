"""Reads for accounts."""

from django.utils import timezone

from accounts import keys
from accounts.models import ApiKey


class KeyRejected(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def api_key_authenticate(plaintext):
    """Return the active ApiKey for `plaintext` or raise KeyRejected(reason). Never logs the key."""
    prefix = keys.split_key(plaintext)
    if prefix is None:
        raise KeyRejected("malformed")
    api_key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if api_key is None or not keys.key_matches(plaintext, api_key.key_hash):
        raise KeyRejected("invalid")
    if api_key.revoked_at is not None:
        raise KeyRejected("revoked")
    if api_key.expires_at is not None and api_key.expires_at <= timezone.now():
        raise KeyRejected("expired")
    if not api_key.user.is_active:
        raise KeyRejected("inactive user")
    return api_key


def api_keys_visible_to(user):
    queryset = ApiKey.objects.select_related("user")
    if user.is_superuser or user.has_perm("accounts.view_apikey") and user.role == "admin":
        return queryset
    return queryset.filter(user=user)
