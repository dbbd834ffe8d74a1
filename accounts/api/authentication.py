"""`Authorization: Bearer <key>` or `Api-Key <key>` for the REST API."""

import logging

from rest_framework import authentication, exceptions

from accounts import networks
from accounts.selectors import KeyRejected, api_key_authenticate
from accounts.services import api_key_auth_failed, api_key_touch
from config.networks import client_ip
from core.api.throttling import AnonRateThrottle

logger = logging.getLogger("pgdeck.api.auth")
KEYWORDS = ("bearer", "api-key")


class NetworkNotAllowed(exceptions.APIException):
    """403 {"error": {"code": "network_not_allowed"}}: a valid key from a network it may not be used from.
    (Not config.api.errors.ApiError: that module imports DRF's views, which import this one.)"""

    status_code = 403
    default_code = networks.CODE


def claimed_prefix(plaintext):
    """The prefix a presented key claims (public, safe to log), or '-'; never any part of the secret."""
    parts = plaintext.split("_", 2)
    return parts[1][:16] if len(parts) == 3 and parts[1].isalnum() else "-"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        try:
            header = authentication.get_authorization_header(request).decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            header = ""
        if not header:
            return None
        keyword, _, plaintext = header.partition(" ")
        if keyword.lower() not in KEYWORDS:
            return None
        plaintext = plaintext.strip()
        try:
            api_key = api_key_authenticate(plaintext)
        except KeyRejected as rejected:
            self.reject(request, rejected, claimed_prefix(plaintext))
        self.check_network(request, api_key)
        api_key_touch(api_key)
        return api_key.user, api_key

    def check_network(self, request, api_key):
        """A valid key from a network its owner's role or the key itself is not bound to: 403, audited."""
        message = networks.network_refusal(request, api_key.user, api_key)
        if message:
            django_request = getattr(request, "_request", request)
            networks.network_refused_record(django_request, user=api_key.user, surface="api_key", api_key=api_key)
            raise NetworkNotAllowed(message, code=networks.CODE)

    def reject(self, request, rejected, prefix):
        """401, audited; a failed attempt also spends the IP's anonymous rate, so guessing ends in 429s."""
        # The Django request, not DRF's: asking DRF's request for .user here would re-enter authentication.
        django_request = getattr(request, "_request", request)  # metrics calls this with a Django request
        logger.warning("api key rejected: reason=%s prefix=%s ip=%s", rejected.reason, prefix,
                       client_ip(django_request))
        throttle = AnonRateThrottle()
        if not throttle.allow_request(django_request, None):
            raise exceptions.Throttled(throttle.wait())
        api_key_auth_failed(reason=rejected.reason, claimed_prefix=prefix, request=django_request)
        raise exceptions.AuthenticationFailed(rejected.message, code=f"key_{rejected.reason}")

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
