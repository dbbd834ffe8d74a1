"""Database firewall rules: the networks a role (settings.ROLE_ALLOWED_NETWORKS) and an API key
(ApiKey.allowed_networks) may be used from. Enforced on admin logins (the login form), on every request of a
logged-in session (NetworkRulesMiddleware) and on every API-key request (ApiKeyAuthentication)."""

from django.conf import settings

from config.networks import address_allowed, client_ip
from core.audit import audit_record_aggregated

CODE = "network_not_allowed"


def network_refusal(request, user, api_key=None):
    """None when the request's client address is allowed for `user` (and `api_key`), else the message to show."""
    address = client_ip(request)
    shown = address or "an unknown address"
    if not address_allowed(address, settings.ROLE_ALLOWED_NETWORKS.get(user.role) or []):
        return f"The {user.role} role may not be used from {shown}; ask an admin to allow your network."
    if api_key is not None and not address_allowed(address, api_key.allowed_networks or []):
        return f"This API key may not be used from {shown}; it is bound to other networks."
    return None


def network_refused_record(request, *, user, surface, api_key=None):
    """Audit a refusal (one row per address and minute, counted: a client may retry as often as it likes)."""
    target = f"pgd_{api_key.prefix}" if api_key is not None else user.username
    return audit_record_aggregated("network.refused", request=request, actor=user.username, target=target,
                                   surface=surface, role=user.role)
