"""`make run`'s set-up in one process: each step is a no-op when already done, so a second run starts fast."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from config.commands import CommandMixin
from config.dbcheck import first_line

DEMO_USERS, DEMO_POSTS = 200, 2000


class Command(CommandMixin, BaseCommand):
    requires_system_checks = []  # runserver checks right after; running them twice costs ~0.5 s per start
    help = ("Migrate, create pg_stat_statements, the query editor's roles, the demo admin and (when the seed's "
            "tables are empty) demo data: what `make run` does before it serves.")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        if self._unapplied_migrations():
            call_command("migrate", interactive=False, verbosity=verbosity, skip_checks=True)
        self._create_query_stats_extension()
        call_command("setup_query_role", verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
        call_command("ensure_demo_admin", verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
        call_command("seed_demo", users=DEMO_USERS, posts=DEMO_POSTS, if_empty=True, verbosity=verbosity,
                     stdout=self.stdout, stderr=self.stderr)

    def _unapplied_migrations(self):
        executor = MigrationExecutor(connection)
        return executor.migration_plan(executor.loader.graph.leaf_nodes())

    def _create_query_stats_extension(self):
        # Query stats reads pg_stat_statements, which each database needs as an extension (the embedded server
        # preloads its library). Another server may not allow it: say so and go on.
        try:
            with connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except DatabaseError as exc:
            self.stderr.write(f"pg_stat_statements not created ({first_line(exc)}); "
                              "Query stats will say how to add it.")
