"""pgdeck's record of each job (who, what, progress, log tail, result) next to procrastinate's own queue rows,
the schedules edited in the admin, and the snapshots kept by scheduled saved queries."""

from django.conf import settings
from django.db import models


class JobRun(models.Model):
    KINDS = ("backup", "verify", "restore", "collect_stats", "retention", "snapshot", "export", "noop")
    STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
    FINISHED = ("succeeded", "failed", "cancelled")

    kind = models.CharField(max_length=32, choices=[(k, k) for k in KINDS])
    # Not indexed, on purpose: each job's claim and end change `status`, and an indexed column changed makes an
    # update write every index of the row; unindexed (and with free room in each page, fillfactor 70: migration
    # 0004) both are HOT updates (bench/jobs.py: ~20% more jobs/s). "Which jobs are active" is answered through
    # procrastinate's own partial index on todo/doing (jobs.selectors.jobs_active).
    status = models.CharField(max_length=16, choices=[(s, s) for s in STATUSES], default="queued")
    # procrastinate_jobs.id: cancelling and the stalled-worker sweep go through it.
    queue_job_id = models.BigIntegerField(null=True, blank=True, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_by = models.CharField(max_length=150, help_text="user name, schedule:<name> or an OS user")
    target = models.CharField(max_length=500, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    progress = models.CharField(max_length=200, blank=True, default="")
    log = models.TextField(blank=True, default="", help_text="the last lines")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    worker = models.CharField(max_length=200, blank=True, default="")
    backup = models.ForeignKey("dbtools.Backup", null=True, blank=True, on_delete=models.SET_NULL)
    schedule = models.ForeignKey("jobs.Schedule", null=True, blank=True, on_delete=models.SET_NULL)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "job_runs"
        ordering = ["-created_at", "-pk"]
        verbose_name = "job"
        permissions = [("manage_jobs", "Can cancel and retry jobs")]

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.status}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Schedule(models.Model):
    KINDS = ("backup", "collect_stats", "snapshot")

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=[(k, k) for k in KINDS])
    cron = models.CharField(max_length=100, help_text="five fields: minute hour day-of-month month day-of-week (UTC)")
    enabled = models.BooleanField(default=True)
    saved_query = models.ForeignKey("dbtools.SavedQuery", null=True, blank=True, on_delete=models.SET_NULL,
                                    help_text="for snapshots: the saved query to run as its owner")
    keep_last = models.PositiveIntegerField(default=7, help_text="backups or snapshots kept by this schedule")
    email_to = models.CharField(max_length=500, blank=True, default="",
                                help_text="snapshots: comma-separated addresses that get the CSV")
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "job_schedules"
        ordering = ["name"]

    def __str__(self):
        return self.name


class QuerySnapshot(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="snapshots")
    saved_query = models.ForeignKey("dbtools.SavedQuery", null=True, on_delete=models.SET_NULL)
    taken_at = models.DateTimeField(auto_now_add=True, db_index=True)
    columns = models.JSONField(default=list)
    rows = models.JSONField(default=list)
    row_count = models.IntegerField(default=0)
    truncated = models.BooleanField(default=False)

    class Meta:
        db_table = "query_snapshots"
        ordering = ["-taken_at", "-pk"]
