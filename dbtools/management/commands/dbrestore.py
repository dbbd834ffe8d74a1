"""manage.py dbrestore FILE [--target-db NAME] [--create] [--yes] [--foreign] [--user NAME]: see docs/backups.md."""

import sys

from django.core.management.base import BaseCommand, CommandError

from dbtools.backups import services
from dbtools.backups.cli import resolve_actor
from dbtools.backups.errors import BackupError


class Command(BaseCommand):
    help = "Restore a backup in one transaction (all or nothing), after checking its checksum."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--target-db", help="database to restore into (default: the configured, live one)")
        parser.add_argument("--target", default="default",
                            help="the registered database target to restore on (default: the app's own server)")
        parser.add_argument("--create", action="store_true", help="create the target first (dropped on failure)")
        parser.add_argument("--yes", action="store_true", help="confirm restoring over the live database")
        parser.add_argument("--foreign", action="store_true",
                            help="a pg_dump pgdeck did not make (no backups row, no signed manifest): restored "
                                 "into a scratch database first, as the restore role, with the same refusals")
        parser.add_argument("--user", help="the pgdeck user acting (default: the OS user, treated as admin)")

    def handle(self, *args, **options):
        actor = resolve_actor(options["user"])
        target_name = options["target"]
        try:
            live = services.target_database(target_name)
            target = options["target_db"] or live
            confirmed = options["yes"] or (target == live and self._confirm(target))
            services.backup_restore(actor=actor, path=options["file"], target=target, create=options["create"],
                                    confirmed=confirmed, foreign=options["foreign"], target_name=target_name)
        except (BackupError, PermissionError) as exc:
            raise CommandError(str(exc))
        except KeyboardInterrupt:
            raise CommandError("interrupted: the restore was rolled back")
        self.stdout.write(self.style.SUCCESS(f"restored {options['file']} into database {target}"))

    def _confirm(self, target):
        if not sys.stdin.isatty():
            return False
        answer = input(f"This replaces the data of the live database {target}. Type its name to confirm: ")
        return answer.strip() == target
