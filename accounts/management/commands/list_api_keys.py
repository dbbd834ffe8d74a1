from django.core.management.base import BaseCommand

from accounts.management.commands._keyargs import user_by_name
from accounts.selectors import api_key_list
from config.commands import CommandMixin

COLUMNS = ("prefix", "name", "owner", "scopes", "created", "expires", "last used", "status")


def _when(value):
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


class Command(CommandMixin, BaseCommand):
    help = "List API keys (prefix, name, owner, scopes, dates, status); never shows a key or its hash."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="only this user's keys")

    def handle(self, *args, **options):
        owner = user_by_name(options["user"]) if options["user"] else None
        rows = [(f"pgd_{key.prefix}", key.name, key.user.username, ",".join(key.scopes), _when(key.created_at),
                 _when(key.expires_at), _when(key.last_used), key.status) for key in api_key_list(user=owner)]
        if not rows:
            self.stdout.write("No API keys.")
            return
        widths = [max(len(str(row[i])) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
        for row in [COLUMNS, *rows]:
            cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
