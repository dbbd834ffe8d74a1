"""Target passwords at rest: Fernet tokens under MultiFernet (the first key encrypts, every key decrypts).

Keys come from settings.TARGETS_ENCRYPTION_KEYS (env PGDECK_TARGETS_KEYS, comma separated, each a urlsafe
base64 32-byte Fernet key). Rotation: put the new key first, run `manage.py rotate_targets_key`, then drop the old.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from targets.errors import TargetKeysMissing, TargetUnavailable

NO_KEYS = "PGDECK_TARGETS_KEYS is not set: target passwords cannot be stored or read (docs/targets.md)"


def generate_key():
    return Fernet.generate_key().decode()


def _fernet():
    keys = [key.strip() for key in getattr(settings, "TARGETS_ENCRYPTION_KEYS", []) if key.strip()]
    if not keys:
        raise TargetKeysMissing(NO_KEYS)
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise TargetKeysMissing("PGDECK_TARGETS_KEYS holds a key that is not a Fernet key "
                                "(urlsafe base64 of 32 bytes: manage.py rotate_targets_key --generate)") from None


def encrypt(plaintext):
    """The token stored for `plaintext`; "" stays "" (no password)."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token, *, name=""):
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise TargetUnavailable(f"the password of target {name!r} cannot be decrypted with PGDECK_TARGETS_KEYS "
                                "(a key was removed before rotate_targets_key ran?)") from None


def rotate(token):
    """The same secret under the first (newest) key."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise TargetUnavailable("a stored target password cannot be decrypted with any key of PGDECK_TARGETS_KEYS") \
            from None
