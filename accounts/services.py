"""Writes for accounts: roles and API keys."""

import logging
import re
from datetime import timedelta

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from accounts import keys
from accounts.key_cache import key_cache
from accounts.models import ApiKey
from accounts.roles import ROLE_CHOICES, ROLE_PERMISSIONS, SCOPES, scopes_for_role
from config.networks import parse_networks
from core.audit import audit_record, audit_record_aggregated

logger = logging.getLogger("pgdeck.accounts")


def _permissions_for(role):
    perms = ROLE_PERMISSIONS[role]
    if perms is None:
        return Permission.objects.all()
    query = Permission.objects.none()
    for perm in perms:
        app_label, codename = perm.split(".")
        query = query | Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return query


def roles_sync():
    """Create or refresh one group per role with exactly the matrix's permissions."""
    for role, _label in ROLE_CHOICES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions_for(role))


def user_sync_role_group(user):
    """Put `user` in exactly the group of its role; every role may sign in to the admin."""
    role_groups = Group.objects.filter(name__in=[name for name, _ in ROLE_CHOICES])
    user.groups.remove(*role_groups.exclude(name=user.role))
    group = role_groups.filter(name=user.role).first()
    if group is not None:
        user.groups.add(group)


MAX_KEY_LIFETIME = timedelta(days=3660)


def parse_duration(text):
    """'30d', '12h', '45m' or '90s' → timedelta; raises ValueError with a readable message."""
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    text = (text or "").strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise ValueError(f"invalid duration {text!r}: use a positive number followed by d, h, m or s (e.g. 30d)")
    amount = int(text[:-1])
    if amount > 10**7 or timedelta(**{units[text[-1]]: amount}) > MAX_KEY_LIFETIME:
        raise ValueError(f"invalid duration {text!r}: at most {MAX_KEY_LIFETIME.days}d")
    return timedelta(**{units[text[-1]]: amount})


class ApiKeyError(ValueError):
    """A key request that cannot be honoured; the message is shown to the user as is."""


def api_key_check_scopes(user, scopes):
    """The scopes as a list, or ApiKeyError when one is unknown or goes beyond the owner's role."""
    scopes = list(dict.fromkeys(scopes))
    if not scopes:
        raise ApiKeyError(f"choose at least one scope from {', '.join(scopes_for_role(user.role))}")
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ApiKeyError(f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    allowed = scopes_for_role(user.role)
    beyond = [scope for scope in scopes if scope not in allowed]
    if beyond:
        raise ApiKeyError(f"scope(s) {', '.join(beyond)} go beyond the {user.role} role of {user.username}; "
                          f"allowed: {', '.join(allowed)}")
    return scopes


def api_key_check_networks(values):
    """The networks as canonical CIDR strings, or ApiKeyError naming the first one that is not a network."""
    try:
        return parse_networks(list(values or []))
    except ValueError as exc:
        raise ApiKeyError(f"allowed networks: {exc}")


TARGET_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")


def api_key_check_targets(values):
    """Target names a key is limited to, as a list (empty: every target its owner may use). Names are checked for
    form only: accounts sits under the targets app, and a name that matches no target grants nothing."""
    names = list(dict.fromkeys(str(value).strip() for value in (values or []) if str(value).strip()))
    for name in names:
        if not TARGET_NAME_RE.fullmatch(name):
            raise ApiKeyError(f"targets: {name[:100]!r} is not a target name (lowercase letters, digits, - and _)")
    return names


def api_key_create(*, user, name, scopes=None, expires_in=None, actor=None, request=None, allowed_networks=None,
                   targets=None):
    """Create a key; returns (ApiKey, plaintext). The plaintext exists only in this return value.
    `allowed_networks` (CIDR strings) binds the key to those networks; empty: wherever the owner's role may be.
    `targets` (target names) limits the key to those database targets; empty: every one the owner may use."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApiKeyError("a key needs a name of 1 to 100 characters")
    if not user.is_active:
        raise ApiKeyError(f"user {user.username} is deactivated")
    scopes = api_key_check_scopes(user, scopes_for_role(user.role) if scopes is None else scopes)
    allowed_networks = api_key_check_networks(allowed_networks)
    targets = api_key_check_targets(targets)
    prefix, plaintext = keys.generate_key()
    expires_at = timezone.now() + expires_in if expires_in else None
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            user=user, name=name, prefix=prefix, key_hash=keys.hash_key(plaintext), scopes=scopes,
            expires_at=expires_at, allowed_networks=allowed_networks, targets=targets,
        )
        audit_record("api_key.create", actor=actor, request=request, target=f"pgd_{prefix}", owner=user.username,
                     name=name, scopes=scopes, expires_at=expires_at.isoformat() if expires_at else None,
                     allowed_networks=allowed_networks, targets=targets)
    logger.info("api key created: prefix=%s user=%s", prefix, user.username)
    return api_key, plaintext


def api_key_revoke(api_key, *, actor=None, request=None):
    """Revoke irreversibly; revoking twice keeps the first time (and audits only the first)."""
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        api_key.refresh_from_db(fields=["revoked_at"])
        if updated:
            transaction.on_commit(key_cache.clear)  # other processes hear it from PostgreSQL (NOTIFY)
            audit_record("api_key.revoke", actor=actor, request=request, target=f"pgd_{api_key.prefix}",
                         owner=api_key.user.username, name=api_key.name)
            logger.info("api key revoked: prefix=%s", api_key.prefix)
    return api_key


def api_key_auth_failed(*, reason, claimed_prefix, request):
    """Record a rejected key (its claimed prefix and why, never the key) in the audit trail: one row per client
    address and minute with a count, so a flood of guesses cannot fill the trail."""
    audit_record_aggregated("api_key.auth_failed", request=request, target=f"pgd_{claimed_prefix}",
                            reason=reason, path=request.path[:200])


LAST_USED_EVERY = timedelta(minutes=1)


def api_key_touch(api_key):
    """Record use at most once a minute per key, so requests do not each write a row."""
    now = timezone.now()
    if api_key.last_used and now - api_key.last_used < LAST_USED_EVERY:
        return False
    updated = ApiKey.objects.filter(pk=api_key.pk).exclude(last_used__gt=now - LAST_USED_EVERY).update(last_used=now)
    api_key.last_used = now
    # The trigger ignores last_used (it would empty every process's cache each minute); re-read this one key.
    key_cache.forget(api_key.prefix)
    return bool(updated)
