"""API key format and hashing: pgd_<prefix>_<secret>, stored as HMAC-SHA-256 with a server-side pepper.

The secret is 32 random bytes, so a fast keyed hash is enough; a slow password hash would only cost latency.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

KEY_TAG = "pgd"
PREFIX_BYTES = 6
SECRET_BYTES = 32


def generate_key():
    """Return (prefix, plaintext key)."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return prefix, f"{KEY_TAG}_{prefix}_{secret}"


def hash_key(plaintext):
    pepper = (settings.API_KEY_PEPPER or settings.SECRET_KEY).encode()
    return hmac.new(pepper, plaintext.encode(), hashlib.sha256).hexdigest()


def split_key(plaintext):
    """Return the prefix of a well-formed key, or None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_TAG or len(parts[1]) != PREFIX_BYTES * 2 or not parts[2]:
        return None
    return parts[1]


def key_matches(plaintext, stored_hash):
    return hmac.compare_digest(hash_key(plaintext), stored_hash)
