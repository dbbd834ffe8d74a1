"""Load PGDECK_TARGETS_FILE (or --file) into the registered targets: one line and exit 1 when it is bad."""

from django.core.management.base import BaseCommand, CommandError

from targets.errors import TargetError
from targets.file import targets_load_file
from targets.services import targets_check_duplicates


class Command(BaseCommand):
    help = "Load the targets file (PGDECK_TARGETS_FILE, TOML or YAML); a bad file changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=None, help="another file than PGDECK_TARGETS_FILE")

    def handle(self, *args, file=None, **options):
        try:
            names = targets_load_file(file)
        except TargetError as exc:
            raise CommandError(exc.message) from None
        if not names and not file:
            self.stdout.write("PGDECK_TARGETS_FILE is not set: nothing to load")
            return
        self.stdout.write(f"loaded {len(names)} target(s): {', '.join(names)}")
        for name, others in targets_check_duplicates(names).items():
            self.stdout.write(f"warning: target {name} is the same database as {', '.join(others)}")
