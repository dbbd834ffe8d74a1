"""One permission check for the API: the user's role must grant the permission and the key's scope cover it."""

from rest_framework.permissions import BasePermission

from accounts.models import ApiKey
from accounts.roles import scope_allows


def key_allows(request, perm):
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return scope_allows(auth.scopes, perm)
    return True  # session login: the role alone decides


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
