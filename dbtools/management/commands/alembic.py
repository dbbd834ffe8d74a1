"""`manage.py alembic SUBCOMMAND`: Alembic's commands, answered by the bridge between Django and alembic_version."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from config.dbcheck import check_connection
from config.errors import ConfigError
from dbtools.migrations_bridge import log
from dbtools.migrations_bridge.adopt import AdoptRefused, migrations_adopt
from dbtools.migrations_bridge.authorization import YES
from dbtools.migrations_bridge.checks import bridge_problems
from dbtools.migrations_bridge.pairing import migrations_pair
from dbtools.migrations_bridge.scripts import script_revisions
from dbtools.migrations_bridge.selectors import bridge_state
from dbtools.migrations_bridge.services import (
    BridgeError,
    migrations_downgrade,
    migrations_stamp,
    migrations_sync,
    migrations_upgrade,
)
from dbtools.migrations_bridge.version_table import MultipleVersionRows, VersionConflict

SUBCOMMANDS = {
    "current": "Show alembic_version's revision, its Django migration, and whether both sides agree.",
    "history": "List the mirrored migrations (newest first) with Django's and Alembic's applied marks.",
    "heads": "Show the head revision(s) of Alembic's scripts and of the Django chain.",
    "upgrade": "Apply the paired Django migrations up to REV (or head) and move alembic_version.",
    "downgrade": "Unapply the paired Django migrations back to REV (or base) and move alembic_version.",
    "stamp": "Set alembic_version to REV without running migrations (like `alembic stamp`).",
    "check": "Exit 1 when alembic_version and Django disagree, models have unmigrated changes, or Alembic has "
             "several heads.",
    "sync": "Write alembic_version from Django's applied migrations.",
    "adopt": "For a database built by Alembic or the seed's SQL: verify its schema, then record the paired "
             "Django migrations as applied.",
    "pair": "Write the Django migration pairing an Alembic-only revision (made with `alembic revision`): it runs "
            "the revision's script and records the models' current state.",
}


class Command(BaseCommand):
    help = "Alembic interop: the alembic_version table kept in step with Django's migrations (docs/migrations.md)."
    requires_system_checks = []  # `check` reports the bridge's own checks; the others must run on a broken map

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for name, text in SUBCOMMANDS.items():
            sub = subparsers.add_parser(name, help=text, description=text)
            sub.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default).")
            sub.add_argument("--user", default="", help="Who to log in migrations_log (default: the OS user).")
            if name == "pair":
                sub.add_argument("revision", metavar="REV", help="The Alembic revision id to pair (e.g. ghi789).")
                sub.add_argument("--app", default=None, help="App label for the migration (default: the app of "
                                                             "the latest mirrored migration).")
            if name in ("upgrade", "downgrade", "stamp"):
                words = {"upgrade": "head", "downgrade": "base", "stamp": "head or base"}[name]
                sub.add_argument("revision", metavar="REV",
                                 help=f"An Alembic revision id (e.g. abc123), app.migration, or {words}.")
            if name == "stamp":
                sub.add_argument("--purge", action="store_true", help="Delete every row of alembic_version first.")
            if name == "downgrade":
                sub.add_argument("--yes", action="store_true",
                                 help="Confirm a downgrade that drops tables or columns holding rows (it also needs "
                                      "a recently verified backup; the refusal shows the row counts).")

    def handle(self, *args, subcommand, database, user, **options):
        if database not in connections:
            raise CommandError(f"unknown database alias '{database}': choose one of {', '.join(connections)}")
        try:
            check_connection(connections[database].settings_dict)
        except ConfigError as exc:
            raise CommandError(str(exc))
        user = user or log.os_user()
        try:
            getattr(self, f"do_{subcommand}")(database=database, user=user, **options)
        except AdoptRefused as exc:
            self.stderr.write("\n".join(exc.diff))
            raise CommandError(str(exc))
        except (BridgeError, MultipleVersionRows, VersionConflict) as exc:
            raise CommandError(str(exc))

    def _line(self, pair, state):
        marks = [m for m, on in (("(head)", pair.revision == state.head),) if on]
        return " ".join([pair.revision or "<unpaired>", *marks, "<->", pair.django_name])

    def do_current(self, *, database, user, **options):
        state = bridge_state(database, with_models=False)
        if len(state.versions) > 1:
            raise MultipleVersionRows(state.versions)
        if state.current and state.current not in script_revisions():
            raise CommandError(f"alembic_version is '{state.current}', which no Alembic script knows (nor any "
                               "Django migration): see `manage.py alembic check`")
        entry = state.entry_for(state.current) if state.current else None
        if entry:
            self.stdout.write(self._line(entry.pair, state))
        else:
            self.stdout.write(state.current or "<base> (alembic_version is empty)")
        if state.in_sync:
            self.stdout.write(self.style.SUCCESS("in sync with Django"))
        for message in state.drift:
            self.stdout.write(self.style.WARNING(f"drift: {message}"))

    def do_history(self, *, database, user, **options):
        state = bridge_state(database, with_models=False)
        self.stdout.write(f"{'alembic':<10} {'django':<45} {'django':<8} {'alembic':<8}")
        for only in reversed(state.alembic_only):
            marks = (" (head)" if only.revision in state.script_heads else "") + \
                (" (current)" if only.revision == state.current else "")
            self.stdout.write(f"{only.revision:<10} {'<unpaired: manage.py alembic pair ' + only.revision + '>':<45} "
                              f"{'-':<8} {'[X]' if only.in_alembic else '[ ]':<8}{marks}  "
                              f"{only.doc.splitlines()[0] if only.doc else ''}".rstrip())
        for entry in reversed(state.entries):
            pair = entry.pair
            marks = (" (head)" if pair.revision == state.head else "") + \
                (" (current)" if pair.revision == state.current else "")
            title = entry.doc.splitlines()[0] if entry.doc else ""
            django_mark, alembic_mark = ("[X]" if on else "[ ]" for on in (entry.applied, entry.in_alembic))
            self.stdout.write(f"{pair.revision:<10} {pair.django_name:<45} {django_mark:<8} {alembic_mark:<8}"
                              f"{marks}  {title}".rstrip())
        self.stdout.write("<base>")

    def do_heads(self, *, database, user, **options):
        state = bridge_state(database, with_models=False)
        for head in state.script_heads:
            entry = state.entry_for(head)
            self.stdout.write(f"{head} (alembic head) <-> {entry.pair.django_name if entry else '<unpaired>'}")
        if state.head and state.head not in state.script_heads:
            self.stdout.write(f"{state.head} (django chain head)")

    def do_upgrade(self, *, database, user, revision, **options):
        new = migrations_upgrade(revision, using=database, user=user, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"alembic_version is now {new or '<base>'}"))

    def do_downgrade(self, *, database, user, revision, yes=False, **options):
        new = migrations_downgrade(revision, using=database, user=user, stdout=self.stdout,
                                   confirmation=YES if yes else None)
        self.stdout.write(self.style.SUCCESS(f"alembic_version is now {new or '<base>'}"))

    def do_stamp(self, *, database, user, revision, purge=False, **options):
        new = migrations_stamp(revision, using=database, user=user, purge=purge)
        self.stdout.write(self.style.SUCCESS(f"alembic_version stamped {new or '<base>'} (no migration ran)"))

    def do_sync(self, *, database, user, **options):
        new = migrations_sync(using=database, user=user)
        self.stdout.write(self.style.SUCCESS(f"alembic_version is {new or '<base>'}, as Django's migrations say"))

    def do_adopt(self, *, database, user, **options):
        result = migrations_adopt(using=database, user=user)
        if not result.recorded:
            self.stdout.write(f"nothing to adopt: Django already has the migrations up to {result.revision}")
            return
        self.stdout.write(self.style.SUCCESS(f"schema matches; recorded as applied: {', '.join(result.recorded)}"))

    def do_pair(self, *, database, user, revision, app=None, **options):
        path = migrations_pair(revision, app_label=app)
        self.stdout.write(self.style.SUCCESS(f"wrote {path}: `manage.py migrate` applies it, or records it as "
                                             f"applied where Alembic already ran {revision}"))

    def do_check(self, *, database, user, **options):
        problems = [f"{p.id}: {p.msg}" for p in bridge_problems()]
        state = bridge_state(database)
        problems += [f"drift: {message}" for message in state.drift]
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} problem(s): {problems[0]}")
        self.stdout.write(self.style.SUCCESS(f"in sync: alembic_version {state.current or '<base>'}, no drift"))
