import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

from targets.file import load_at_startup  # noqa: E402 - after Django is set up

load_at_startup()  # PGDECK_TARGETS_FILE, when set (docs/targets.md)
