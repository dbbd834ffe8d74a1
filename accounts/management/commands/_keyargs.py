"""Argument helpers shared by the API key commands: every bad value becomes a one-line CommandError."""

from django.core.management.base import CommandError

from accounts.models import ApiKey, User


def user_by_name(username):
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise CommandError(f"no user named {username!r}")


def key_by_prefix(text):
    """Accept the bare prefix, `pgd_<prefix>` or `pgd_<prefix>_…` as the list shows it."""
    parts = text.strip().split("_")
    prefix = parts[1] if len(parts) >= 2 and parts[0] == "pgd" else parts[0]
    try:
        return ApiKey.objects.select_related("user").get(prefix=prefix)
    except ApiKey.DoesNotExist:
        raise CommandError(f"no API key with prefix {prefix!r} (see manage.py list_api_keys)")
