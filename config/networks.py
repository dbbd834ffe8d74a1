"""Client addresses and network lists: the one place that decides who a request comes from.

X-Forwarded-For is written by whoever sends the request, so only the entries added by our own reverse proxies
can be believed: with PROXY_COUNT = n the client is the n-th entry from the right, and with 0 (the default) the
header is ignored and REMOTE_ADDR decides. Logins (django-axes), rate limits, network rules and the audit trail
all ask client_ip(), so they always agree on the address.
"""

import functools
import ipaddress

from django.conf import settings

from config.errors import ConfigError


def _address(text):
    try:
        return str(ipaddress.ip_address((text or "").strip()))
    except ValueError:
        return None


def client_ip(request):
    """The client's address as a canonical string, or None when the trusted hop holds no valid address."""
    count = getattr(settings, "PROXY_COUNT", 0)
    if count <= 0:
        return _address(request.META.get("REMOTE_ADDR"))
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:  # a request that bypassed the proxies: only the socket is known
        return _address(request.META.get("REMOTE_ADDR"))
    return _address(forwarded[-min(count, len(forwarded))])


def parse_networks(values):
    """['10.0.0.0/8', '2001:db8::1'] → canonical CIDR strings; ValueError naming the first bad entry."""
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ValueError("expected a list of IP networks (CIDR such as 10.0.0.0/8)")
    networks = []
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"{str(value)[:60]!r} is not an IP network (use CIDR such as 10.0.0.0/8 or an address)")
        if str(network) not in networks:
            networks.append(str(network))
    return networks


@functools.lru_cache(maxsize=256)
def _networks(values):
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def address_allowed(address, networks):
    """True when `networks` is empty (no rule) or holds `address`; an unknown address never matches a rule."""
    if not networks:
        return True
    if address is None:
        return False
    client = ipaddress.ip_address(address)
    return any(client in network for network in _networks(tuple(networks)))


def role_networks_from_env(by_role):
    """Settings helper: {role: [CIDR…]} checked at startup, so a typo stops the server with one line."""
    checked = {}
    for role, values in by_role.items():
        try:
            checked[role] = parse_networks(values)
        except ValueError as exc:
            raise ConfigError(f"{role.upper()}_ALLOWED_NETWORKS: {exc}")
    return checked
