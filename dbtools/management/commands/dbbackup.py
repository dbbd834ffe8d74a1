"""manage.py dbbackup [options] | manage.py dbbackup verify FILE — see docs/backups.md."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.commands import CommandMixin
from dbtools.backups import services
from dbtools.backups.cli import ProgressPrinter, human_size, resolve_actor
from dbtools.backups.errors import BackupError


class Command(CommandMixin, BaseCommand):
    help = "Back up the database with pg_dump (checksummed, optionally encrypted and verified), or verify a backup."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="*", metavar="verify FILE", help="verify an existing backup file")
        parser.add_argument("--format", choices=services.FORMATS, default="custom")
        parser.add_argument("--output", help="file (or existing folder) to write; default BACKUP_DIR")
        parser.add_argument("--schema-only", action="store_true", help="objects only, no rows")
        parser.add_argument("--table", nargs="+", action="extend", default=[], metavar="T",
                            help="only these tables (exact names, schema-qualified or on the search_path)")
        parser.add_argument("--verify", action="store_true", help="restore into a scratch database and compare")
        parser.add_argument("--encrypt", action="store_true", help="encrypt with BACKUP_ENCRYPTION_KEY")
        parser.add_argument("--keep", type=int, help="then keep only the newest N successful backups")
        parser.add_argument("--source-db", help="another database on the configured server (default: that one)")
        parser.add_argument("--target", default="default",
                            help="the registered database target to back up (default: the app's own database)")
        parser.add_argument("--user", help="the pgdeck user acting (default: the OS user, treated as admin)")

    def handle(self, *args, **options):
        actor = resolve_actor(options["user"])
        action = options["action"]
        try:
            if action:
                if action[0] != "verify" or len(action) != 2:
                    raise CommandError("usage: manage.py dbbackup verify FILE (or dbbackup [options] to back up)")
                return self._verify(actor, path=action[1])
            if options["keep"] is not None and options["keep"] < 1:
                raise CommandError("--keep must be at least 1")
            backup = self._backup(actor, options)
            if options["verify"]:
                self._verify(actor, backup=backup)
            self._prune(actor, options["keep"])
        except (BackupError, PermissionError) as exc:
            raise CommandError(str(exc))
        except KeyboardInterrupt:
            raise CommandError("interrupted: the partial file was removed")

    def _backup(self, actor, options):
        printer = ProgressPrinter(self.stdout)
        backup = services.backup_prepare(actor=actor, fmt=options["format"], output=options["output"],
                                         encrypt=options["encrypt"], dbname=options["source_db"],
                                         tables=options["table"], target=options["target"])
        self.stdout.write(f"backup #{backup.pk}: writing {backup.file}")
        services.backup_run(backup, actor=actor, schema_only=options["schema_only"], tables=options["table"],
                            on_progress=printer)
        self.stdout.write(self.style.SUCCESS(
            f"backup #{backup.pk} done: {backup.file} ({human_size(backup.size)}, {printer.elapsed():.1f} s, "
            f"sha256 {backup.checksum})"))
        return backup

    def _verify(self, actor, path=None, backup=None):
        if path is not None and not Path(path).exists():
            raise CommandError(f"backup file {path} does not exist")
        self.stdout.write(f"verifying {backup.file if backup else path} in a scratch database…")
        ok, result = services.backup_verify(actor=actor, path=path, backup=backup)
        if not ok:
            raise CommandError(f"verify failed: {result}")
        self.stdout.write(self.style.SUCCESS(f"verified: {result}"))

    def _prune(self, actor, keep):
        pruned = services.backups_prune(actor=actor, keep=keep)
        for pk, path in pruned:
            self.stdout.write(f"pruned backup #{pk}: {path}")
