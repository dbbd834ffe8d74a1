"""manage.py worker: run queued jobs (backups, verifies, restores, statistics, schedules). Start any number, on
any machine sharing the database; each job runs once. Ctrl-C / SIGTERM: finish the running jobs, then stop."""

import asyncio
import os
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from procrastinate.contrib.django import app


class Command(BaseCommand):
    help = "Run pgdeck's job worker (procrastinate): any number of them, on any machine."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=settings.JOBS_CONCURRENCY,
                            help=f"jobs run at once by this worker (default JOBS_CONCURRENCY="
                                 f"{settings.JOBS_CONCURRENCY})")
        parser.add_argument("--queues", default="", help="comma-separated queues (default: all; "
                                                         "queues are backups and default)")
        parser.add_argument("--name", default="", help="shown on the Jobs screen (default host:pid)")
        parser.add_argument("--once", action="store_true", help="stop when the queue is empty")

    def handle(self, *args, concurrency, queues, name, once, **options):
        from jobs import tasks  # noqa: F401  (registers the tasks and the schedules' periodic dispatcher)
        from jobs.worker import run_worker

        if not 1 <= concurrency <= 100:
            raise CommandError("--concurrency must be between 1 and 100")
        queue_list = [q.strip() for q in queues.split(",") if q.strip()] or None
        name = name or f"{socket.gethostname()}:{os.getpid()}"
        with app.replace_connector(app.connector.get_worker_connector()):
            asyncio.run(run_worker(app, concurrency=concurrency, queues=queue_list, name=name, wait=not once,
                                   listen_notify=True))
