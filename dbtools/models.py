"""dbtools tables: the seed's planned query_history and migrations_log, plus saved queries, backups,
monitoring snapshots and the audit trail."""

from django.conf import settings
from django.db import models

from accounts.roles import DBTOOLS_PERMISSIONS
from dbtools.query.charts import validate_chart


class DbToolsPermission(models.Model):
    """No table: it only carries the named permissions the roles are made of (dbtools.run_query, …)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = DBTOOLS_PERMISSIONS


class QueryHistory(models.Model):
    STATUS_CHOICES = [(s, s) for s in ("running", "success", "error", "timeout", "cancelled")]
    MODE_CHOICES = [(m, m) for m in ("read", "write", "explain", "explain_analyze", "export")]

    query = models.TextField()
    execution_time = models.FloatField(null=True, blank=True, help_text="milliseconds")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default="running")
    row_count = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    database_alias = models.CharField(max_length=64, default="default")
    mode = models.CharField(max_length=16, choices=MODE_CHOICES, default="read")
    cancelled = models.BooleanField(default=False)
    backend_pid = models.IntegerField(null=True, blank=True)
    # A random token the editor page sends with a run, so Cancel can find the run before its id is known.
    run_token = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # EXPLAIN (FORMAT JSON) document of an explain run, so two plans from history can be compared later.
    plan = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "query_history"
        ordering = ["-timestamp"]
        verbose_name_plural = "query history"

    def __str__(self):
        return f"#{self.pk} {self.status} {self.query[:60]}"


class SavedQuery(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    sql = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_queries")
    shared = models.BooleanField(default=False)
    run_count = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    chart = models.JSONField(null=True, blank=True, default=None, validators=[validate_chart],
                             help_text='Chart of the result: {"type": "line"|"bar"|"scatter", "x": "column", '
                                       '"y": ["column", …]}; empty for none.')

    class Meta:
        db_table = "saved_queries"
        ordering = ["name"]
        verbose_name_plural = "saved queries"

    def __str__(self):
        return self.name


class EditorTab(models.Model):
    """One tab of a user's query workspace: its name, draft SQL, target and last result (saved as they type)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="editor_tabs")
    name = models.CharField(max_length=100)
    sql = models.TextField(blank=True, default="")
    target = models.CharField(max_length=63, default="default")
    position = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "query_editor_tabs"
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["owner", "closed_at"], name="query_editor_tabs_owner")]

    def __str__(self):
        return self.name


class MigrationLog(models.Model):
    ACTION_CHOICES = [(a, a) for a in ("upgrade", "downgrade", "stamp", "adopt", "migrate", "sync")]
    STATUS_CHOICES = [(s, s) for s in ("running", "success", "failed")]

    revision = models.CharField(max_length=32, blank=True, default="")
    from_revision = models.CharField(max_length=32, blank=True, default="")
    action = models.CharField(max_length=16, choices=ACTION_CHOICES)
    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.CharField(max_length=150, blank=True, default="")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default="running")
    app_label = models.CharField(max_length=100, blank=True, default="")
    django_migration = models.CharField(max_length=255, blank=True, default="")
    duration_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "migrations_log"
        ordering = ["-timestamp"]

    def __str__(self):
        return f"{self.action} {self.revision} {self.status}"


class Backup(models.Model):
    FORMAT_CHOICES = [(f, f) for f in ("custom", "plain", "directory")]
    STATUS_CHOICES = [(s, s) for s in ("running", "success", "failed")]

    file = models.CharField(max_length=500)
    format = models.CharField(max_length=16, choices=FORMAT_CHOICES, default="custom")
    size = models.BigIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64, blank=True, default="")
    encrypted = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default="running")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    error = models.TextField(blank=True, default="")
    snapshot = models.JSONField(default=dict, blank=True, help_text="tables and row counts at backup time")
    progress_bytes = models.BigIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_result = models.TextField(blank=True, default="")
    verify_ok = models.BooleanField(null=True)

    class Meta:
        db_table = "backups"
        ordering = ["-started_at"]

    def __str__(self):
        return self.file


class StatsSnapshot(models.Model):
    taken_at = models.DateTimeField(auto_now_add=True, db_index=True)
    database_size = models.BigIntegerField()
    connections = models.JSONField(default=dict)
    cache_hit_ratio = models.FloatField(null=True)
    xact_commit = models.BigIntegerField(default=0)
    xact_rollback = models.BigIntegerField(default=0)
    tables = models.JSONField(default=list, help_text="largest tables: name, total bytes, estimated rows")

    class Meta:
        db_table = "stats_snapshots"
        ordering = ["-taken_at"]


# The audit trail's model lives in core (under every app) and keeps its app label, table and migrations here.
from core.models import AuditEvent  # noqa: E402,F401
