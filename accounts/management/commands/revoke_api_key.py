from django.core.management.base import BaseCommand

from accounts.management.commands._keyargs import key_by_prefix
from accounts.services import api_key_revoke
from config.commands import CommandMixin


class Command(CommandMixin, BaseCommand):
    help = "Revoke an API key by its prefix (irreversible; takes effect on the key's next request)."

    def add_arguments(self, parser):
        parser.add_argument("prefix", help="the key's prefix, as list_api_keys shows it")

    def handle(self, *args, **options):
        api_key = key_by_prefix(options["prefix"])
        if api_key.revoked_at is not None:
            self.stdout.write(f"pgd_{api_key.prefix} was already revoked at {api_key.revoked_at:%Y-%m-%d %H:%M} UTC.")
            return
        api_key_revoke(api_key, actor="manage.py revoke_api_key")
        self.stdout.write(f"Revoked pgd_{api_key.prefix} ({api_key.name!r} of {api_key.user.username}).")
