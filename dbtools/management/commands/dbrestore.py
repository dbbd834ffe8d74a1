"""manage.py dbrestore FILE [--target NAME] [--target-db NAME] [--create] [--yes] [--foreign] [--user NAME]
[--no-wait]: a restore job (Jobs screen, locks), waited for; see docs/backups.md."""

import sys

from django.core.management.base import BaseCommand, CommandError

from dbtools.backups.cli import resolve_actor
from dbtools.backups.errors import BackupError
from dbtools.backups.services import target_database
from dbtools.backups.tools import live_database_name
from dbtools.targeting import is_default, target_name
from dbtools.targeting import where_on as where
from jobs.errors import JobError


class Command(BaseCommand):
    help = "Restore a backup in one transaction (all or nothing), after checking its checksum, as a job."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--target", default="default",
                            help="registered target (server) to restore into; needs the restore grant on it "
                                 "(default: the app's own server)")
        parser.add_argument("--target-db", help="database to restore into (default: the target's own; on the "
                                                "default target the configured, live one)")
        parser.add_argument("--create", action="store_true", help="create the target first (dropped on failure)")
        parser.add_argument("--yes", action="store_true", help="confirm restoring over the live database")
        parser.add_argument("--foreign", action="store_true",
                            help="a pg_dump pgdeck did not make (no backups row, no signed manifest): restored "
                                 "into a scratch database first, as the restore role, with the same refusals")
        parser.add_argument("--user", help="the pgdeck user acting (default: the OS user, treated as admin)")
        parser.add_argument("--no-wait", action="store_true",
                            help="queue the restore job and return (default: wait for it, printing its log; "
                                 "without a running worker this command runs it)")

    def handle(self, *args, **options):
        from jobs.starters import restore_job
        from jobs.waiting import job_wait

        actor = resolve_actor(options["user"])
        db_target = target_name(options["target"])
        try:
            target = options["target_db"] or target_database(db_target)
        except BackupError as exc:
            raise CommandError(str(exc))
        named = where(db_target, target)
        asks = (target == live_database_name() if is_default(db_target) else not options["create"])
        confirmed = options["yes"] or (asks and self._confirm(named, live=is_default(db_target)))
        try:
            run = restore_job(actor=actor, path=options["file"], target=target, create=options["create"],
                              confirmed=confirmed, foreign=options["foreign"], db_target=db_target)
        except (BackupError, PermissionError, JobError) as exc:
            raise CommandError(str(exc))
        if options["no_wait"]:
            self.stdout.write(f"restore of {options['file']} into {named} queued as job #{run.pk}")
            return
        try:
            run = job_wait(run, queue="backups", on_line=lambda line: self.stdout.write(f"  {line}"))
        except KeyboardInterrupt:
            run.refresh_from_db()
            if run.status in ("queued", "running"):  # not run here: a worker runs it
                raise CommandError(f"stopped waiting: job #{run.pk} stays {run.status} for a worker (cancel it on "
                                   "the Jobs screen)")
            raise CommandError(f"interrupted: the restore was rolled back (job #{run.pk})")
        except JobError as exc:  # nothing could move it for a bounded time (jobs.waiting)
            raise CommandError(str(exc)) from None
        if run.status != "succeeded":
            raise CommandError(run.error or f"job #{run.pk} {run.status}")
        self.stdout.write(self.style.SUCCESS(f"restored {options['file']} into database {named} (job #{run.pk})"))

    def _confirm(self, named, *, live):
        if not sys.stdin.isatty():
            return False
        what = "the live database" if live else "the database"
        answer = input(f"This replaces the data of {what} {named}. Type {named} to confirm: ")
        return answer.strip() == named
