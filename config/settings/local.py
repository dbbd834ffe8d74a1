"""Developer settings: DEBUG on, the embedded server unless DATABASE_URL is set."""

from config.env import env
from config.settings.base import *  # noqa: F403
from config.settings.database import build_databases
from config.settings.targets_keys import derived_targets_keys

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A local-only key: production settings refuse to start without DJANGO_SECRET_KEY.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-key-not-for-production")
API_KEY_PEPPER = env("API_KEY_PEPPER", default="local-only-pepper")
DATABASES, DATABASE_SOURCE = build_databases(allow_embedded=True)
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
TARGETS_ENCRYPTION_KEYS = TARGETS_ENCRYPTION_KEYS or derived_targets_keys(SECRET_KEY)  # noqa: F405
