"""The queues each live worker serves (procrastinate_workers has only an id and a heartbeat), so a command
waiting for a job (jobs.waiting) counts only the workers that can run it. A row goes with its worker's row."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_jobs2_export"),
        ("procrastinate", "0041_post_retry_failed_job"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE TABLE job_worker_queues ("
            " worker_id bigint PRIMARY KEY REFERENCES procrastinate_workers (id) ON DELETE CASCADE,"
            " queues varchar[] NULL)",  # NULL: every queue
            "DROP TABLE job_worker_queues",
        ),
    ]
