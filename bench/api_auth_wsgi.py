"""Gunicorn entry point for bench.api_auth: pgdeck with the bench's URLs, on the throwaway database it names."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402  (settings module first)

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

settings.ROOT_URLCONF = "bench.api_auth"
settings.DATABASES["default"]["NAME"] = os.environ["BENCH_API_AUTH_DB"]
application = get_wsgi_application()
