from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from accounts.managers import UserManager
from accounts.roles import ROLE_CHOICES, VIEWER, scope_allows
from core.api.credentials import ScopedCredential


class User(AbstractUser):
    """An admin-console user (the seed's planned admin users: username, email, password hash, role, created_at)."""

    role = models.CharField(max_length=16, choices=ROLE_CHOICES, default=VIEWER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = UserManager()

    class Meta:
        db_table = "accounts_user"
        verbose_name = "admin user"


class ApiKey(ScopedCredential, models.Model):
    """The seed's api_keys table plus prefix, scopes and revoked_at. Only a hash of the key is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    scopes = models.JSONField(default=list)
    # CIDR strings the key may be used from (config.networks.parse_networks); empty: from anywhere.
    allowed_networks = models.JSONField(default=list, blank=True)
    # Names of the database targets the key may use; empty: every target its owner may use.
    targets = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_keys"
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} (pgd_{self.prefix}_…)"

    def allows(self, perm):
        """The key's scopes cover `perm` (the role is checked apart: core.api.permissions)."""
        return scope_allows(self.scopes, perm)

    def allows_target(self, name):
        """A key limited to some database targets covers only those; an empty list: every target."""
        return not self.targets or name in self.targets

    @property
    def status(self):
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"
