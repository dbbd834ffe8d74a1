"""Models every app may use: the audit trail."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=255, blank=True, default="")
    # The registered database target (targets.Target.name) the action concerned; "" when none.
    db_target = models.CharField(max_length=100, blank=True, default="", db_default="", db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True, default="")
    when = models.DateTimeField(auto_now_add=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        # Registered under dbtools, whose migrations own the table since the start: core stays a plain package
        # that accounts and blog may import without importing dbtools.
        app_label = "dbtools"
        db_table = "audit_events"
        ordering = ["-when"]

    def __str__(self):
        return f"{self.when:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target}"
