"""Gunicorn entry point for `make fuzz` (tests/api/live_fuzz.py): pgdeck on the throwaway database it names."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402  (settings module first)

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

settings.DATABASES["default"]["NAME"] = os.environ["FUZZ_DATABASE"]
application = get_wsgi_application()
