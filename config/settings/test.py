"""Test settings: the embedded server unless DATABASE_URL points elsewhere (e.g. the PostgreSQL 15 service)."""

from config.env import env
from config.settings.base import *  # noqa: F403
from config.settings.database import build_databases
from config.settings.targets_keys import derived_targets_keys

DEBUG = False
SECRET_KEY = "test-only-key"
API_KEY_PEPPER = "test-only-pepper"
# Off by default: most tests change keys inside a transaction that never commits, so PostgreSQL never
# notifies; tests/accounts/test_key_cache.py turns it on with committed (transactional) tests.
API_KEY_CACHE = env.bool("API_KEY_CACHE", default=False)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES, DATABASE_SOURCE = build_databases(allow_embedded=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"apikey": "100000/min", "anon": "100000/min"}}  # noqa: F405
BACKUP_DIR = env.path("BACKUP_DIR", default="/tmp/pgdeck-test-backups")
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
TARGETS_ENCRYPTION_KEYS = TARGETS_ENCRYPTION_KEYS or derived_targets_keys(SECRET_KEY)  # noqa: F405
