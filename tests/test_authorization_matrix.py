"""Authorization lives in the services (issue 19): one table of (tool action, role, allowed), each row calling
the service itself, never a view. A refused call raises the tool's permission error; an allowed one gets past
the check and stops at the next, harmless, reason (empty SQL, no such backend, unknown format, …)."""

import pytest
from django.utils import timezone

from core.authorization import NotAllowed
from dbtools.backups import services as backups
from dbtools.backups.downloads import download_response
from dbtools.backups.errors import BackupError
from dbtools.backups.restoring import backup_verify, restore_authorize
from dbtools.migrations_bridge.authorization import migrations_authorize
from dbtools.migrations_bridge.services import BridgeError
from dbtools.models import Backup, SavedQuery
from dbtools.monitoring import services as monitoring
from dbtools.query import services as query
from dbtools.query.errors import QueryError
from dbtools.query.explain import explain_query
from dbtools.query.export import Export
from dbtools.query.runner import run_query
from jobs import services as jobs
from jobs.errors import JobError
from jobs.models import JobRun

ROLES = ("admin", "operator", "analyst", "viewer", "inactive")


def query_code(call):
    try:
        call()
    except QueryError as exc:
        return exc.code
    return "ok"


def backend_code(call):
    try:
        call()
    except monitoring.BackendNotFound:
        return "not_found"
    except monitoring.BackendRefused as exc:
        return exc.code
    return "ok"


def passes(call, *past):
    """True when `call` gets past the permission check (returns, or raises one of the `past` errors)."""
    try:
        call()
    except NotAllowed:
        return False
    except past:
        return True
    return True


def saved_by(owner):
    return SavedQuery.objects.create(owner=owner, name="q", sql="select 1")


def running_backup():
    return Backup(pk=999999, file="/nonexistent/pgdeck-matrix.dump", format="custom", status="running",
                  started_at=timezone.now())


ACTIONS = {
    # query editor (dbtools/query/services.py run_authorize in runner.opened_run, saved queries, cancel)
    "query.run": lambda user, other: query_code(lambda: run_query(user=user, sql="")) != "permission_denied",
    "query.run_write": lambda user, other: query_code(lambda: run_query(user=user, sql="", mode="write"))
    != "permission_denied",
    "query.explain": lambda user, other: query_code(lambda: explain_query(user=user, sql_text=""))
    != "permission_denied",
    "query.export": lambda user, other: query_code(lambda: Export(user=user, sql_text="")) != "permission_denied",
    "query.cancel": lambda user, other: query_code(lambda: query.query_cancel(user, query_id=0))
    != "permission_denied",
    "query.saved_create": lambda user, other: passes(
        lambda: query.saved_query_create(owner=user, name="mine", sql="select 1")),
    "query.saved_update_own": lambda user, other: passes(
        lambda: query.saved_query_update(saved_by(user), actor=user, name="renamed")),
    "query.saved_delete_others": lambda user, other: passes(
        lambda: query.saved_query_delete(saved_by(other), actor=user)),
    # monitoring (dbtools/monitoring/services.py backend_signal)
    "monitoring.cancel": lambda user, other: backend_code(lambda: monitoring.backend_signal("cancel", 0, actor=user))
    != "permission_denied",
    "monitoring.terminate": lambda user, other: backend_code(
        lambda: monitoring.backend_signal("terminate", 0, actor=user)) != "permission_denied",
    # backups (dbtools/backups/services.py, downloads.py, restoring.py)
    "backups.create": lambda user, other: passes(lambda: backups.backup_prepare(actor=user, fmt="nope"), BackupError),
    "backups.delete": lambda user, other: passes(lambda: backups.backup_delete(running_backup(), actor=user),
                                                 BackupError),
    "backups.download": lambda user, other: passes(lambda: download_response(running_backup(), actor=user),
                                                   BackupError),
    "backups.verify": lambda user, other: passes(lambda: backup_verify(actor=user, path="/nonexistent/x.dump"),
                                                 BackupError),
    "backups.restore": lambda user, other: passes(lambda: restore_authorize(user, "pgdeck_matrix_elsewhere")),
    # migrations (dbtools/migrations_bridge/authorization.py)
    "migrations.apply": lambda user, other: migrations_refusal(user) != "permission_denied",
    # jobs (jobs/services.py)
    "jobs.cancel": lambda user, other: passes(lambda: jobs.job_cancel(JobRun(pk=999999, status="succeeded"),
                                                                      actor=user), JobError),
    "jobs.retry": lambda user, other: passes(lambda: jobs.job_retry(JobRun(pk=999999, status="succeeded"),
                                                                    actor=user), JobError),
}


def migrations_refusal(user):
    try:
        migrations_authorize("upgrade", "head", actor=user)
    except BridgeError as exc:
        return exc.code
    return "ok"


# Which roles may do what: the table (an inactive admin may do nothing).
ALLOWED = {
    "query.run": {"admin", "analyst"},
    "query.run_write": {"admin"},
    "query.explain": {"admin", "analyst"},
    "query.export": {"admin", "analyst"},
    "query.cancel": {"admin", "analyst"},
    "query.saved_create": {"admin", "analyst"},
    "query.saved_update_own": {"admin", "analyst"},
    "query.saved_delete_others": {"admin"},
    "monitoring.cancel": {"admin", "operator"},
    "monitoring.terminate": {"admin", "operator"},
    "backups.create": {"admin", "operator"},
    "backups.delete": {"admin", "operator"},
    "backups.download": {"admin", "operator"},
    "backups.verify": {"admin", "operator"},
    "backups.restore": {"admin"},
    "migrations.apply": {"admin", "operator"},
    "jobs.cancel": {"admin", "operator"},
    "jobs.retry": {"admin", "operator"},
}
ROWS = [(action, role, role in allowed) for action, allowed in ALLOWED.items() for role in ROLES]


def test_every_action_has_a_row():
    assert set(ALLOWED) == set(ACTIONS)


@pytest.mark.parametrize("action, role, expected", ROWS, ids=[f"{a}-{r}" for a, r, _ in ROWS])
def test_service_authorizes(action, role, expected, make_user):
    if role == "inactive":
        user = make_user("admin", username="inactive-admin", is_active=False)
    else:
        user = make_user(role)
    other = make_user("analyst", username="someone-else")
    assert ACTIONS[action](user, other) is expected


def test_a_trusted_command_line_actor_passes_the_backup_and_job_checks(db):
    assert passes(lambda: backups.backup_prepare(actor="postgres", fmt="nope"), BackupError)
    assert passes(lambda: jobs.job_cancel(JobRun(pk=999999, status="succeeded"), actor="postgres"), JobError)


def test_refusals_answer_403_in_the_admin_and_the_api():
    from django.core.exceptions import PermissionDenied

    assert issubclass(NotAllowed, PermissionDenied) and issubclass(NotAllowed, PermissionError)
