"""Cancel every long-running statement of the app's database: what would be cancelled (a read) and the cancel
itself (a write, audited here), only for backends still running the statement that was confirmed."""

from django.conf import settings

from core.audit import audit_record
from dbtools.monitoring import services
from dbtools.monitoring.queries.long_running import client_statements


def long_running_targets():
    """Active client sessions of this database past MONITORING_LONG_QUERY_SECONDS, pgdeck's own left out."""
    rows = client_statements(settings.MONITORING_LONG_QUERY_SECONDS)
    own = services.app_backend_pids()
    return [row for row in rows if row["pid"] not in own]


def statement_token(row):
    """pid + statement start: a pid reused, or a session that moved on to another statement, no longer matches."""
    return f"{row['pid']}:{row['query_start'].isoformat()}"


def long_running_cancel_all(tokens, *, request):
    """Cancel the confirmed backends that still run the confirmed statement; one audit event for the batch
    (each cancel also writes its own backend.cancel event). Returns (cancelled pids, skipped tokens)."""
    current = {statement_token(row): row["pid"] for row in long_running_targets()}
    cancelled, skipped = [], []
    for confirmed in tokens:
        pid = current.get(confirmed)
        if pid is None:
            skipped.append(confirmed)
            continue
        try:
            outcome = services.backend_signal("cancel", pid, request=request)
        except (services.BackendNotFound, services.BackendRefused):
            skipped.append(confirmed)
            continue
        if outcome["result"] == "signalled":
            cancelled.append(pid)
        else:
            skipped.append(confirmed)
    audit_record("backend.cancel_all", request=request, target=f"{len(cancelled)} backend(s)",
                 result="signalled" if cancelled else "nothing cancelled", cancelled=cancelled, skipped=skipped,
                 threshold_seconds=settings.MONITORING_LONG_QUERY_SECONDS)
    return cancelled, skipped
