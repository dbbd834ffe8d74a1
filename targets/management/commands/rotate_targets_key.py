"""Re-encrypt every stored target password under the first key of PGDECK_TARGETS_KEYS."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.audit import audit_record
from targets import crypto
from targets.errors import TargetError
from targets.models import Target


class Command(BaseCommand):
    help = ("Re-encrypt target passwords with the first key of PGDECK_TARGETS_KEYS (put the new key first, run "
            "this, then remove the old key). --generate prints a new key.")

    def add_arguments(self, parser):
        parser.add_argument("--generate", action="store_true", help="print a new key and exit")

    def handle(self, *args, generate=False, **options):
        if generate:
            self.stdout.write(crypto.generate_key())
            return
        try:
            with transaction.atomic():
                rotated = 0
                for target in Target.objects.select_for_update().exclude(password_encrypted=""):
                    target.password_encrypted = crypto.rotate(target.password_encrypted)
                    target.save(update_fields=["password_encrypted"])
                    rotated += 1
                audit_record("targets.rotate_key", actor="manage.py", count=rotated)
        except TargetError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"re-encrypted {rotated} target password(s) under the first key")
