from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._keyargs import user_by_name
from accounts.services import ApiKeyError, api_key_create, parse_duration
from config.commands import CommandMixin


class Command(CommandMixin, BaseCommand):
    help = "Create an API key for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="owner's username")
        parser.add_argument("--name", required=True, help="what the key is for")
        parser.add_argument("--expires-in", help="lifetime such as 30d, 12h, 45m (default: never expires)")
        parser.add_argument("--scopes", help="comma-separated scopes (default: every scope the owner's role allows)")
        parser.add_argument("--allowed-networks", default="",
                            help="comma-separated CIDR networks the key may be used from (default: anywhere)")
        parser.add_argument("--targets", default="",
                            help="comma-separated database target names the key may use (default: every target "
                                 "its owner may use)")

    def handle(self, *args, **options):
        user = user_by_name(options["user"])
        try:
            expires_in = parse_duration(options["expires_in"]) if options["expires_in"] else None
        except ValueError as exc:
            raise CommandError(str(exc))
        scopes = None
        if options["scopes"] is not None:
            scopes = [scope.strip() for scope in options["scopes"].split(",") if scope.strip()]
        networks = [network.strip() for network in options["allowed_networks"].split(",") if network.strip()]
        try:
            api_key, plaintext = api_key_create(user=user, name=options["name"], scopes=scopes,
                                                expires_in=expires_in, actor="manage.py create_api_key",
                                                allowed_networks=networks,
                                                targets=[t.strip() for t in options["targets"].split(",") if t.strip()])
        except ApiKeyError as exc:
            raise CommandError(str(exc))
        expires = f"expires {api_key.expires_at:%Y-%m-%d %H:%M} UTC" if api_key.expires_at else "never expires"
        where = f"from {', '.join(api_key.allowed_networks)}" if api_key.allowed_networks else "from anywhere"
        if api_key.targets:
            where += f"; targets {', '.join(api_key.targets)}"
        self.stderr.write(f"Created key {api_key.name!r} for {user.username} (scopes: {', '.join(api_key.scopes)}; "
                          f"{expires}; {where}). It is shown only now:")
        self.stdout.write(plaintext)
