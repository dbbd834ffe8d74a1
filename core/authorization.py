"""Authorization in services: the service that does a thing asks whether its actor may (views and the API ask
too, for their own answer: a 403 page, a hidden button, the API key's scope). tests/test_authorization_matrix.py
checks every tool's services against the roles.

An actor is a user, or a string for a trusted caller that is no account: the OS user running `manage.py`, or a
schedule (its owner was checked when it was saved)."""

from django.core.exceptions import PermissionDenied


class NotAllowed(PermissionDenied, PermissionError):
    """Refused: a 403 in the admin and the API (PermissionDenied), a one-line error in commands (PermissionError)."""

    code = "permission_denied"


def actor_name(actor):
    return actor if isinstance(actor, str) else getattr(actor, "username", "") or "anonymous"


def actor_may(actor, perm):
    if isinstance(actor, str):
        return True
    return bool(actor is not None and actor.is_active and actor.has_perm(perm))


def require_permission(actor, perm, *, error=NotAllowed):
    """Return quietly, or raise `error(message)` (the tool's own error type when its callers expect one)."""
    if not actor_may(actor, perm):
        raise error(f"{actor_name(actor)} may not do this: it needs the permission {perm}")
