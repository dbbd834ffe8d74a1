"""Create or update the query editor's least-privilege login roles (idempotent; `make run` calls it)."""

import time

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections, transaction

from dbtools.query.connection import connect, verify_safe
from dbtools.query.errors import QueryError
from dbtools.query.roles import all_roles_drift, setup_roles

ATTEMPTS = 3


class Command(BaseCommand):
    help = "Create/update the query editor's login roles (QUERY_ROLE, QUERY_WRITE_ROLE) and their grants."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Django database alias (default: default)")
        parser.add_argument("--check", action="store_true", help="only check that the roles log in and are safe")
        parser.add_argument("--target", default=None,
                            help="a registered target (docs/targets.md): prepare the roles there with its credential")

    def handle(self, *args, database, check, target=None, **options):
        if target and target != "default":
            from dbtools.query.target_roles import setup_on_target

            try:
                lines = setup_on_target(target, check=check)
            except QueryError as exc:
                raise CommandError(exc.message) from None
            for line in lines:
                self.stdout.write(line)
            return
        if not check:
            self._setup(database)
        for mode in ("read", "write"):
            self._check(mode, database)
        self._check_drift(database)

    def _setup(self, alias):
        if settings.QUERY_DATABASE_URL and settings.QUERY_WRITE_DATABASE_URL:
            self.stdout.write("QUERY_DATABASE_URL and QUERY_WRITE_DATABASE_URL are set: roles are managed outside "
                              "pgdeck; checking them only.")
            return
        for attempt in range(ATTEMPTS):
            try:
                lines = self._setup_once(alias)
                break
            except (DatabaseError, psycopg.Error) as exc:
                # Roles are cluster-wide: a parallel run for another database (e.g. pytest-xdist workers)
                # may update the same role at the same moment ("tuple concurrently updated"); try again.
                if attempt == ATTEMPTS - 1:
                    raise CommandError(f"setting up the query roles failed: {str(exc).strip().splitlines()[0]}")
                time.sleep(0.2 * (attempt + 1))
        for line in lines:
            self.stdout.write(line)

    def _setup_once(self, alias):
        conn = connections[alias]
        with transaction.atomic(using=alias), conn.cursor() as cursor:
            allowed = cursor.execute(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()[0]
            if not allowed:
                raise CommandError(f"{conn.settings_dict['USER']!r} may not create roles (needs superuser or "
                                   "CREATEROLE); create them as described in docs/query-editor.md or set "
                                   "QUERY_DATABASE_URL / QUERY_WRITE_DATABASE_URL.")
            return setup_roles(cursor.cursor, conn.settings_dict["NAME"])

    def _check_drift(self, alias):
        if settings.QUERY_DATABASE_URL and settings.QUERY_WRITE_DATABASE_URL:
            return
        with connections[alias].cursor() as cursor:
            drift = all_roles_drift(cursor.cursor)
        if drift:
            raise CommandError(f"query roles changed outside pgdeck ({'; '.join(drift)}); run "
                               "`manage.py setup_query_role` to reset them")
        self.stdout.write(self.style.SUCCESS("every query role is as pgdeck wrote it (no role settings, "
                                             "memberships or owned objects of its own)"))

    def _check(self, mode, alias):
        try:
            with connect(mode, alias) as conn:
                verify_safe(conn)
                user = conn.info.user
        except QueryError as exc:
            raise CommandError(exc.message)
        self.stdout.write(self.style.SUCCESS(f"{mode} role {user!r} logs in and is least-privilege"))
