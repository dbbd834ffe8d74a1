"""The dev/test fallback key for target passwords, derived from SECRET_KEY (production sets PGDECK_TARGETS_KEYS)."""

import base64
import hashlib


def derived_targets_keys(secret_key):
    digest = hashlib.sha256(b"pgdeck-targets:" + secret_key.encode()).digest()
    return [base64.urlsafe_b64encode(digest).decode()]
