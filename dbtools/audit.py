"""The one audit trail. Call audit_record for every sensitive action; never pass secrets in details."""

import logging

from dbtools.models import AuditEvent

logger = logging.getLogger("pgdeck.audit")


def _client(request):
    if request is None:
        return None, ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return ip or None, request.META.get("HTTP_USER_AGENT", "")[:255]


def audit_record(action, *, actor=None, request=None, target="", **details):
    """Write one AuditEvent. `actor` defaults to request.user; commands pass a user or a name string."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    actor_name = actor if isinstance(actor, str) else getattr(actor, "username", "")
    ip, agent = _client(request)
    event = AuditEvent.objects.create(
        actor=None if isinstance(actor, str) else actor, actor_name=actor_name or "", action=action,
        target=str(target)[:255], ip=ip, user_agent=agent, details=details,
    )
    logger.info("audit %s by %s on %s", action, actor_name or "-", target)
    return event
