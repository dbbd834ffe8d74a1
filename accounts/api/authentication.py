"""`Authorization: Bearer <key>` or `Api-Key <key>` for the REST API."""

import logging

from rest_framework import authentication, exceptions

from accounts.selectors import KeyRejected, api_key_authenticate
from accounts.services import api_key_touch

logger = logging.getLogger("pgdeck.api.auth")
KEYWORDS = ("bearer", "api-key")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, plaintext = header.partition(" ")
        if keyword.lower() not in KEYWORDS:
            return None
        plaintext = plaintext.strip()
        try:
            api_key = api_key_authenticate(plaintext)
        except KeyRejected as rejected:
            # The key itself is never logged; its claimed prefix is enough to trace abuse.
            claimed = plaintext.split("_")[1][:16] if plaintext.count("_") >= 2 else "-"
            logger.warning("api key rejected: reason=%s prefix=%s ip=%s", rejected.reason, claimed,
                           request.META.get("REMOTE_ADDR"))
            request._pgdeck_key_rejected = rejected.reason
            raise exceptions.AuthenticationFailed(f"API key is {rejected.reason}.", code=f"key_{rejected.reason}")
        api_key_touch(api_key)
        return api_key.user, api_key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
