#!/usr/bin/env python
"""Django's command-line utility, reporting bad configuration as one line instead of a traceback."""

import os
import sys

# Commands that must work without a reachable database.
NO_DB_COMMANDS = {"help", "--help", "-h", "version", "--version", "collectstatic", "makemigrations"}


def run(argv):
    from django.conf import settings
    from django.core.management import execute_from_command_line

    settings.INSTALLED_APPS  # noqa: B018 - load settings now so their errors are reported as one line
    command = argv[1] if len(argv) > 1 else "help"
    if command not in NO_DB_COMMANDS and "--help" not in argv and "-h" not in argv:
        from config.dbcheck import check_connection

        check_connection(settings.DATABASES["default"])
    execute_from_command_line(argv)


def is_reloader_parent(argv):
    """`runserver` with autoreload runs twice: a parent that only restarts a child (the real server, RUN_MAIN=true)
    when code changes. Django sets itself up in that parent too, though it serves nothing (~1 s of `make run`'s
    start); this parent skips it: settings or database errors are reported by the child, whose exit code it keeps."""
    return (argv[1:2] == ["runserver"] and "--noreload" not in argv and os.environ.get("RUN_MAIN") != "true"
            and not {"--help", "-h"} & set(argv))


def restart_with_reloader():
    """What Django's autoreload.run_with_reloader does in the parent, without setting Django up."""
    import signal

    from django.utils import autoreload

    signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
    try:
        sys.exit(autoreload.restart_with_reloader())
    except KeyboardInterrupt:
        sys.exit(0)


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if is_reloader_parent(sys.argv):
        restart_with_reloader()
    from django.core.exceptions import ImproperlyConfigured
    from django.db import OperationalError

    from config.errors import ConfigError

    try:
        run(sys.argv)
    except (ConfigError, ImproperlyConfigured) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except OperationalError as exc:
        # The database went away while a command ran: one line, not a traceback.
        from config.dbcheck import first_line

        print(f"error: database error: {first_line(exc)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
