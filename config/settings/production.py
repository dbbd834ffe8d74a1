"""Production settings: every secret and the database come from the environment; nothing defaults."""

from config.env import env
from config.errors import ConfigError
from config.settings.base import *  # noqa: F403
from config.settings.database import build_databases

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ConfigError("DJANGO_SECRET_KEY is required with config.settings.production")
API_KEY_PEPPER = env("API_KEY_PEPPER", default="")
if not API_KEY_PEPPER:
    raise ConfigError("API_KEY_PEPPER is required with config.settings.production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ConfigError("DJANGO_ALLOWED_HOSTS is required with config.settings.production")
DATABASES, DATABASE_SOURCE = build_databases(allow_embedded=False)
# The schema lists every endpoint and parameter: for logged-in users (staff session or API key) only.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# No derived key in production: PGDECK_TARGETS_KEYS must be set before a target with a password is stored.
DEFAULT_TARGET_ENVIRONMENT = env("DEFAULT_TARGET_ENVIRONMENT", default="production")
