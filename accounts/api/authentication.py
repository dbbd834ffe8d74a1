"""`Authorization: Bearer <key>` or `Api-Key <key>` for the REST API."""

import logging

from rest_framework import authentication, exceptions

from accounts.api.throttling import AnonRateThrottle
from accounts.selectors import KeyRejected, api_key_authenticate
from accounts.services import api_key_auth_failed, api_key_touch

logger = logging.getLogger("pgdeck.api.auth")
KEYWORDS = ("bearer", "api-key")


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
        api_key_touch(api_key)
        return api_key.user, api_key

    def reject(self, request, rejected, prefix):
        """401, audited; a failed attempt also spends the IP's anonymous rate, so guessing ends in 429s."""
        # The Django request, not DRF's: asking DRF's request for .user here would re-enter authentication.
        django_request = getattr(request, "_request", request)  # metrics calls this with a Django request
        logger.warning("api key rejected: reason=%s prefix=%s ip=%s", rejected.reason, prefix,
                       request.META.get("REMOTE_ADDR"))
        throttle = AnonRateThrottle()
        if not throttle.allow_request(django_request, None):
            raise exceptions.Throttled(throttle.wait())
        api_key_auth_failed(reason=rejected.reason, claimed_prefix=prefix, request=django_request)
        raise exceptions.AuthenticationFailed(rejected.message, code=f"key_{rejected.reason}")

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
