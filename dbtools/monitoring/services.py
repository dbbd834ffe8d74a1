"""Writes of the monitoring feature: cancel/terminate a backend (audited), and statistics snapshots."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.audit import audit_record
from core.authorization import require_permission
from dbtools.models import StatsSnapshot
from dbtools.monitoring.queries import activity, backends, overview, tables
from dbtools.monitoring.redaction import fingerprint
from dbtools.monitoring.signals import remembered_pids

ACTIONS = {
    "cancel": {"setting": "MONITORING_ALLOW_CANCEL", "perm": "dbtools.cancel_backend", "signal": backends.cancel},
    "terminate": {"setting": "MONITORING_ALLOW_TERMINATE", "perm": "dbtools.terminate_backend",
                  "signal": backends.terminate},
}


class BackendNotFound(Exception):
    """No backend with that pid (it ended, or never existed)."""


class BackendRefused(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def app_backend_pids():
    """pids of pgdeck's own connections: this request's, every one this process has handed out, the idle ones in
    its pool, and any backend carrying our application_name (set OPTIONS application_name so other worker
    processes' connections are recognised too)."""
    app_name = settings.DATABASES["default"].get("OPTIONS", {}).get("application_name", "")
    pids = set(activity.own_backend_pids(app_name)) | remembered_pids()
    pool = getattr(connection, "pool", None)
    for idle in list(getattr(pool, "_pool", ())):  # psycopg_pool keeps idle connections here (best effort)
        pid = getattr(getattr(idle, "info", None), "backend_pid", None)
        if pid:
            pids.add(pid)
    return pids


def _refusal(action, backend):
    if not getattr(settings, ACTIONS[action]["setting"]):
        return "disabled", f"{action.capitalize()} is disabled on this server ({ACTIONS[action]['setting']}=false)."
    if backend["pid"] in app_backend_pids():
        return "own_backend", f"pid {backend['pid']} is one of pgdeck's own connections; refusing to {action} it."
    if backend["backend_type"] != "client backend":
        return "not_client_backend", f"pid {backend['pid']} is a {backend['backend_type']}, not a client session."
    return None


def _permission_refused(message):
    return BackendRefused("permission_denied", message)


def backend_signal(action, pid, *, request=None, actor=None):
    """Cancel or terminate backend `pid`; audits the attempt (also a refused one) and returns the outcome.

    Only backends of the app's own database can be found (a pid of another database is BackendNotFound, like
    one that never existed). The audit row keeps the statement's fingerprint, never its literal values; the
    returned "query" is the text as PostgreSQL shows it, for the caller to shape for its viewer.
    The actor (or the request's user) needs the action's permission (dbtools.cancel_backend / terminate_backend):
    BackendRefused("permission_denied"), nothing audited.
    Raises BackendNotFound (nothing audited) or BackendRefused(code, message).
    """
    user = actor if actor is not None else getattr(request, "user", None)
    require_permission(user, ACTIONS[action]["perm"], error=_permission_refused)
    backend = activity.backend(pid)
    if not backend:
        raise BackendNotFound(f"There is no backend with pid {pid} in this database.")
    details = {"pid": pid, "query": fingerprint(backend["query"])[:2000], "username": backend["username"],
               "application_name": backend["application_name"], "state": backend["state"]}
    refusal = _refusal(action, backend)
    if refusal:
        audit_record(f"backend.{action}", request=request, actor=actor, target=pid, result=f"refused: {refusal[0]}",
                     **details)
        raise BackendRefused(*refusal)
    signalled = ACTIONS[action]["signal"](pid)
    result = "signalled" if signalled else "failed"
    audit_record(f"backend.{action}", request=request, actor=actor, target=pid, result=result, **details)
    return {"pid": pid, "action": action, "result": result, "query": backend["query"] or ""}


def stats_snapshot_create(*, largest_tables=20):
    """Store one snapshot: database size, connections by state, cache hit, xact counters, largest tables."""
    counters = overview.database_counters()
    by_state = {row["state"]: row["connections"] for row in activity.state_counts()}
    hits, reads = counters["blks_hit"], counters["blks_read"]
    table_rows = [{"name": f"{row['schema']}.{row['name']}", "total_bytes": row["total_bytes"],
                   "estimated_rows": row["estimated_rows"]} for row in tables.largest_tables(largest_tables)]
    return StatsSnapshot.objects.create(
        database_size=overview.database_size(), connections={"by_state": by_state, "total": sum(by_state.values())},
        cache_hit_ratio=hits / (hits + reads) if hits + reads else None,
        xact_commit=counters["xact_commit"], xact_rollback=counters["xact_rollback"], tables=table_rows,
    )


def stats_snapshots_prune(*, days=None):
    """Delete snapshots older than the retention window; returns how many went."""
    days = settings.MONITORING_RETENTION_DAYS if days is None else days
    deleted, _ = StatsSnapshot.objects.filter(taken_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted
