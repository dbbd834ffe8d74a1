"""Shared bits of the dbbackup/dbrestore commands: who is acting, and how progress is printed."""

import getpass
import time

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def resolve_actor(username):
    """--user names a pgdeck user (its role applies); without it the OS user running manage.py acts as admin."""
    if not username:
        try:
            return f"os:{getpass.getuser()}"
        except Exception:  # no passwd entry in some containers
            return "os:unknown"
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not user.is_active:
        raise CommandError(f"--user {username}: no active pgdeck user with that name")
    return user


def human_size(size):
    size = float(size or 0)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


class ProgressPrinter:
    """Plain lines ("12.3 MB written, 4.2 s"), readable in cron mail and in a terminal alike."""

    EVERY = 2.0  # seconds between lines: enough to see it move, few enough for a cron log

    def __init__(self, stream):
        self.stream, self.started, self.last = stream, time.monotonic(), None

    def elapsed(self):
        return time.monotonic() - self.started

    def __call__(self, size):
        now = time.monotonic()
        if self.last is None or now - self.last >= self.EVERY:
            self.last = now
            self.stream.write(f"  {human_size(size)} written, {self.elapsed():.1f} s")
