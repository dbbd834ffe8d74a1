"""schemathesis over every operation of /api/schema/ with a valid admin key and every check (the short budget).

Every check schemathesis has runs (server errors, status codes, content types, response headers and schemas,
schema-valid requests rejected, schema-violating requests accepted, …), with the one per-operation exception
written in schemathesis.toml (SQL is validated by PostgreSQL, not the schema). `make fuzz` runs the same against
a live gunicorn for a long budget (tests/api/live_fuzz.py).

In-process through the WSGI app, so requests run on pytest-django's test database inside the test's transaction
(nothing they write survives the test). Examples are derandomized (a fixed seed per operation) and bounded so the
whole module stays around a minute on 2 busy cores.
"""

import io

import hypothesis
import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from accounts.services import api_key_create
from tests.factories import PostFactory

# Highest pid Linux can hand out (pid_max's ceiling): pids above it never name a real backend.
PID_CEILING = 4_194_304


@pytest.fixture
def fuzz_key(db, make_user):
    user = make_user("admin", username="fuzzer")
    _key, plaintext = api_key_create(user=user, name="fuzz", scopes=None)
    return plaintext


@pytest.fixture(scope="module")
def query_role(django_db_setup, django_db_blocker):
    """The query editor's login roles (cluster-wide; grants per database), as tests/query/conftest.py does."""
    with django_db_blocker.unblock():
        call_command("setup_query_role", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def fuzz_world(db, query_role, settings, tmp_path, monkeypatch):
    # Backups the fuzzer starts are queued jobs inside the test's transaction: rolled back, never run.
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_DIR.mkdir()
    PostFactory.create_batch(3)  # something for the list and detail operations to find
    # As Django's test Client does: the handler must not close the connection holding the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


# Loaded at collection (the schema view needs no database); one pytest test per operation, each in its own
# test transaction.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application()).exclude(
    # Upgrade/downgrade change the test database's schema for every later test; their bad-input paths are
    # tested one by one in tests/migrations_bridge/test_admin_and_api.py and test_failures_and_drift.py.
    operation_id_regex="^migrations_(upgrade|downgrade)",
)


@schema.parametrize()
@hypothesis.settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,  # nothing written to .hypothesis/ in the checkout
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_answers_every_generated_request_within_its_schema(case, fuzz_key):
    if "pid" in (case.path_parameters or {}):
        # cancel/terminate must never hit a real backend of the shared server: shift positive pids past pid_max.
        pid = case.path_parameters["pid"]
        if isinstance(pid, int) and 0 < pid <= PID_CEILING:
            case.path_parameters["pid"] = pid + PID_CEILING
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_key}"})  # every check
