"""manage.py collect_stats: store one statistics snapshot and prune old ones (run it from cron or a timer)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from dbtools.monitoring import services
from dbtools.monitoring.history import services as history
from dbtools.monitoring.queries.base import MonitoringQueryError


class Command(BaseCommand):
    help = "Store a snapshot of database size, connections, cache hit, xact counters and the largest tables; " \
           "delete snapshots older than MONITORING_RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--retention-days", type=int, default=None,
                            help=f"keep this many days (default MONITORING_RETENTION_DAYS="
                                 f"{settings.MONITORING_RETENTION_DAYS})")
        parser.add_argument("--tables", type=int, default=20, help="how many of the largest tables to record")
        parser.add_argument("--prune-only", action="store_true", help="only delete old snapshots")
        parser.add_argument("--no-statements", action="store_true",
                            help="skip the pg_stat_statements history snapshot")

    def handle(self, *args, retention_days, tables, prune_only, **options):
        if retention_days is not None and retention_days < 1:
            raise CommandError("--retention-days must be at least 1")
        if not 0 <= tables <= 1000:
            raise CommandError("--tables must be between 0 and 1000")
        try:
            snapshot = None if prune_only else services.stats_snapshot_create(largest_tables=tables)
            pruned = services.stats_snapshots_prune(days=retention_days)
            history.statement_history_prune(days=retention_days)
            statements = None if prune_only or options["no_statements"] else self._statements()
        except (MonitoringQueryError, DatabaseError) as exc:
            raise CommandError(f"could not collect statistics: {str(exc).strip().splitlines()[0]}")
        if snapshot is not None and options["verbosity"] > 0:
            self.stdout.write(f"snapshot {snapshot.pk}: database {snapshot.database_size} bytes, "
                              f"{snapshot.connections['total']} connections; pruned {pruned} old snapshot(s)")
            if statements:
                self.stdout.write(statements)
        elif options["verbosity"] > 0:
            self.stdout.write(f"pruned {pruned} old snapshot(s)")

    def _statements(self):
        """The statement history is optional: without pg_stat_statements the size snapshot still counts."""
        try:
            result = history.statement_snapshot_create()
        except history.StatementsUnavailable as exc:
            return f"statements: skipped ({exc})"
        kind = "baseline" if result["baseline"] else "reset detected, " if result["reset_detected"] else ""
        return f"statements: {result['statements']} tracked, {result['stored']} with activity stored" + (
            f" ({kind.rstrip(', ')})" if kind else "")
