"""The one audit trail. Call audit_record for every sensitive action; never pass secrets in details."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.networks import client_ip
from core.models import AuditEvent

logger = logging.getLogger("pgdeck.audit")


def _client(request):
    if request is None:
        return None, ""
    # Not the first X-Forwarded-For entry: the client writes that one itself (config/networks.py).
    return client_ip(request), request.META.get("HTTP_USER_AGENT", "")[:255]


def audit_record(action, *, actor=None, request=None, target="", db_target="", **details):
    """Write one AuditEvent. `actor` defaults to request.user; commands pass a user or a name string.
    `db_target` names the registered database target the action concerned (targets.Target.name), if any."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    actor_name = actor if isinstance(actor, str) else getattr(actor, "username", "")
    ip, agent = _client(request)
    event = AuditEvent.objects.create(
        actor=None if isinstance(actor, str) else actor, actor_name=actor_name or "", action=action,
        target=str(target)[:255], db_target=str(db_target or "")[:100], ip=ip, user_agent=agent, details=details,
    )
    logger.info("audit %s by %s on %s", action, actor_name or "-", target)
    return event


def audit_record_aggregated(action, *, request, actor="", target="", **details):
    """Record an event that an anonymous client can repeat at will (a failed key, a refused network): one row per
    (action, client address) per AUDIT_AGGREGATE_SECONDS window, holding the first attempt's details and a
    `count` of attempts, so a flood cannot fill the trail. Returns the row."""
    ip, _agent = _client(request)
    seconds = settings.AUDIT_AGGREGATE_SECONDS
    now = timezone.now()
    window_start = now - timedelta(seconds=now.timestamp() % seconds)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Serialises the same (action, address) across processes, so two attempts cannot both open a window.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"pgdeck-audit:{action}:{ip}"])
            cursor.execute(
                "UPDATE audit_events SET details = jsonb_set(details, '{count}',"
                " to_jsonb(coalesce((details->>'count')::bigint, 1) + 1))"
                " WHERE id = (SELECT id FROM audit_events WHERE action = %s AND ip IS NOT DISTINCT FROM %s::inet"
                "             AND \"when\" >= %s AND details ? 'count' ORDER BY id DESC LIMIT 1) RETURNING id",
                [action, ip, window_start])
            row = cursor.fetchone()
        if row is not None:
            return AuditEvent.objects.get(pk=row[0])
        return audit_record(action, actor=actor, request=request, target=target, count=1,
                            window_seconds=seconds, **details)
