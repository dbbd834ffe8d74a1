"""What every pgdeck management command shares: quiet INFO logs and a quiet end when stdout is closed."""

import logging
import os
import sys


class CommandMixin:
    """Mix into a BaseCommand subclass (first in the bases).

    - Log lines below WARNING (audit and service INFO lines, on stderr via the root console handler) appear only
      with -v 2 or more: by default a command prints what it was asked for and its own messages.
    - `manage.py list_api_keys | head` closes stdout early; the command then ends with exit code 1 and no
      BrokenPipeError traceback (as `ls | head` does).
    """

    def execute(self, *args, **options):
        root = logging.getLogger()
        previous = root.level
        root.setLevel(logging.WARNING if options.get("verbosity", 1) < 2 else min(previous, logging.INFO))
        try:
            output = super().execute(*args, **options)
            self.stdout.flush()  # inside the try: a closed pipe shows up on the last flush
            return output
        except BrokenPipeError:
            _drop_stdout()
            sys.exit(1)
        finally:
            root.setLevel(previous)


def _drop_stdout():
    # Python flushes sys.stdout again at exit and would print "Exception ignored ... BrokenPipeError" there;
    # point the descriptor at /dev/null so that last flush succeeds silently.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to protect at exit
        pass
