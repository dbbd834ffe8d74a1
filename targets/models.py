"""Registered PostgreSQL targets (besides "default", the app's own database, which lives in settings)."""

from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from targets import crypto
from targets.validators import validate_host

DEFAULT = "default"
NAME_RE = r"^[a-z0-9][a-z0-9_-]{0,62}$"
ENVIRONMENTS = [("production", "production"), ("staging", "staging"), ("dev", "dev")]
SOURCES = [("admin", "admin"), ("file", "file")]
SSLMODES = [(m, m) for m in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")]
CAPABILITIES = [(c, c) for c in ("query", "write", "monitor", "signal", "backup", "restore")]


class Target(models.Model):
    name = models.CharField(max_length=63, unique=True, validators=[RegexValidator(
        NAME_RE, "lower-case letters, digits, _ and - (start with a letter or digit, at most 63)")])
    host = models.CharField(max_length=255, validators=[validate_host])
    port = models.PositiveIntegerField(default=5432, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    dbname = models.CharField("database", max_length=63)
    user = models.CharField(max_length=63)
    password_encrypted = models.TextField(blank=True, default="", editable=False)
    sslmode = models.CharField(max_length=16, choices=SSLMODES, default="prefer")
    sslrootcert = models.CharField("root certificate file", max_length=500, blank=True, default="")
    environment = models.CharField(max_length=16, choices=ENVIRONMENTS, default="dev")
    notes = models.TextField(blank=True, default="")
    source = models.CharField(max_length=8, choices=SOURCES, default="admin", editable=False)
    # What the server said it is when last tested (targets/identity.py): system_identifier, database, started.
    identity = models.JSONField(default=dict, blank=True, editable=False)
    identity_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "targets"
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~models.Q(name=DEFAULT), name="targets_name_not_default")]

    def __str__(self):
        return self.name

    @property
    def is_default(self):
        return self.name == DEFAULT

    @property
    def password(self):
        """The decrypted password (only the seam and the key rotation read it)."""
        return crypto.decrypt(self.password_encrypted, name=self.name)

    @password.setter
    def password(self, plaintext):
        self.password_encrypted = crypto.encrypt(plaintext or "")

    @property
    def has_password(self):
        return bool(self.password_encrypted)


class TargetGrant(models.Model):
    """Members of `group` (roles map to groups) may use `target` for `capability`, within their role's rights."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="grants")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="target_grants")
    capability = models.CharField(max_length=16, choices=CAPABILITIES)

    class Meta:
        db_table = "target_grants"
        constraints = [models.UniqueConstraint(fields=["target", "group", "capability"],
                                               name="target_grants_unique")]

    def __str__(self):
        return f"{self.group} may {self.capability} on {self.target}"
