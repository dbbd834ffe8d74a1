"""Test settings plus tests.failing_app, a mirrored app whose migration fails (run in subprocesses only)."""

from config.settings.test import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.failing_app.apps.FailingAppConfig"]  # noqa: F405
ALEMBIC_MIRRORED_APPS = ["blog", "failing_app"]
# Its revision bad001 has no Alembic script on purpose: the bridge's start-up check says so; silence it here.
SILENCED_SYSTEM_CHECKS = ["pgdeck.alembic.E004"]
