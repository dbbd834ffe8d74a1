"""Local settings that say on stderr which process loaded them (tests/test_warm_start.py; subprocesses only)."""

import os
import sys

from config.settings.local import *  # noqa: F403

print(f"pgdeck-settings-loaded pid={os.getpid()}", file=sys.stderr, flush=True)
