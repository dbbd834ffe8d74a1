"""One permission check for the API: the user's role must grant the permission and the key's scope cover it."""

from django.conf import settings
from rest_framework.permissions import BasePermission

from core.api.credentials import ScopedCredential


def key_allows(request, perm):
    auth = getattr(request, "auth", None)
    if isinstance(auth, ScopedCredential):
        return auth.allows(perm)
    return True  # session login: the role alone decides


def key_allows_target(request, target_name):
    """An API key limited to some database targets (ApiKey.targets) covers only those; an empty list, or a session
    login, leaves it to the user's role (targets.selectors.user_can, checked by the tool)."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ScopedCredential):
        return auth.allows_target(target_name)
    return True


def has_api_permission(request, perm):
    user = request.user
    return bool(user and user.is_authenticated and user.has_perm(perm) and key_allows(request, perm))


def require(perm, *, safe_perm=None):
    """A permission class: `perm` for every method, or `safe_perm` for GET/HEAD/OPTIONS when given."""

    class RequiredPermission(BasePermission):
        message = f"This needs the permission {perm} (role and key scope)."

        def has_permission(self, request, view):
            needed = safe_perm if safe_perm and request.method in ("GET", "HEAD", "OPTIONS") else perm
            self.message = f"This needs the permission {needed} (role and key scope)."
            return has_api_permission(request, needed)

    RequiredPermission.__name__ = f"Require_{perm.replace('.', '_')}"
    return RequiredPermission


def require_model_perms(app_label, model_name):
    """Permission class for a model viewset: view_* for reads, add_/change_/delete_* for the writes."""
    perms = {action: f"{app_label}.{action}_{model_name}" for action in ("view", "add", "change", "delete")}
    by_method = {"POST": perms["add"], "PUT": perms["change"], "PATCH": perms["change"], "DELETE": perms["delete"]}

    class ModelPermission(BasePermission):
        message = "Permission denied."

        def has_permission(self, request, view):
            needed = by_method.get(request.method, perms["view"])
            self.message = f"This needs the permission {needed} (role and key scope)."
            return has_api_permission(request, needed)

    ModelPermission.__name__ = f"Require_{app_label}_{model_name}"
    return ModelPermission


class DocsAccess(BasePermission):
    """/api/schema/ and /api/docs/: anyone when API_DOCS_PUBLIC (development), else a staff session or a key."""

    message = "The API schema and docs need a login (staff session or API key) on this server."

    def has_permission(self, request, view):
        if settings.API_DOCS_PUBLIC:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)
