#!/usr/bin/env python
"""Django's command-line utility, reporting bad configuration as one line instead of a traceback."""

import os
import sys

# Commands that must work without a reachable database.
NO_DB_COMMANDS = {"help", "--help", "-h", "version", "--version", "collectstatic", "makemigrations", "check_config"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from config.errors import ConfigError

    try:
        from django.conf import settings
        from django.core.management import execute_from_command_line

        settings.INSTALLED_APPS  # noqa: B018 - load settings now so their errors are reported here
        command = sys.argv[1] if len(sys.argv) > 1 else "help"
        if command not in NO_DB_COMMANDS and "--help" not in sys.argv:
            from config.dbcheck import check_connection

            check_connection(settings.DATABASES["default"])
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
