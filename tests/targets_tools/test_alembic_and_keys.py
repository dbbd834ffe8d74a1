"""Alembic state per target (read-only section + API), audit events and API keys limited to targets."""

import pytest
from rest_framework.test import APIClient

from accounts.services import ApiKeyError, api_key_check_targets, api_key_create
from tests.targets_tools.conftest import grant

pytestmark = pytest.mark.django_db


def api_for(user, scopes=("read",), targets=None):
    _key, plaintext = api_key_create(user=user, name="t", scopes=list(scopes), targets=targets)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_alembic_state_of_targets(make_user, pg15_targets, broken_targets):
    client = api_for(make_user("admin", username="root"))
    pg15 = client.get("/api/v1/migrations/alembic?target=pg15")
    assert pg15.status_code == 200, pg15.content
    body = pg15.json()
    assert body["target"] == "pg15" and body["versions"] == ["abc123"] and body["known"] is True
    default = client.get("/api/v1/migrations/alembic").json()
    assert default["target"] == "default" and default["at_head"] is True
    down = client.get("/api/v1/migrations/alembic?target=refused")
    assert down.status_code == 424 and down.json()["error"]["code"] == "target_unavailable"
    unknown = client.get("/api/v1/migrations/alembic?target=nowhere")
    assert unknown.status_code == 404
    extra = client.get("/api/v1/migrations/alembic?target=pg15&verbose=1")
    assert extra.status_code == 400  # strict query parameters, like every endpoint


def test_alembic_target_without_table_and_without_grant(make_user, pg15_targets):
    analyst = make_user("analyst")
    client = api_for(analyst)
    assert client.get("/api/v1/migrations/alembic?target=pg15ro").status_code == 403
    grant(pg15_targets["pg15ro"], "analyst", "monitor")
    state = client.get("/api/v1/migrations/alembic?target=pg15ro")
    assert state.status_code in (200, 403), state.content  # the reader may not read alembic_version: a 403 code
    if state.status_code == 403:
        assert state.json()["error"]["code"] == "target_privileges"


def test_migrations_page_section(client, make_user, pg15_targets):
    client.force_login(make_user("admin", username="root"))
    page = client.get("/admin/dbtools/migrations/?target=pg15")
    assert page.status_code == 200
    assert page.context["alembic_state"].versions == ["abc123"]
    assert "Alembic on a target" in page.content.decode()


def test_key_target_names_are_checked_for_form():
    assert api_key_check_targets(["pg15", " pg15 ", "", "default"]) == ["pg15", "default"]
    with pytest.raises(ApiKeyError):
        api_key_check_targets(["Bad Name"])


def test_key_limited_to_a_target_is_refused_elsewhere_on_every_tool(make_user, pg15_targets):
    client = api_for(make_user("admin", username="root"), scopes=("admin",), targets=["pg15"])
    assert client.get("/api/v1/monitoring/overview?target=pg15").status_code == 200
    for response in (client.get("/api/v1/monitoring/overview"),
                     client.get("/api/v1/migrations/alembic?target=default"),
                     client.post("/api/v1/query", {"sql": "SELECT 1", "target": "pg15ro"}, format="json"),
                     client.post("/api/v1/backups", {"target": "default"}, format="json")):
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "target_forbidden"


def test_create_api_key_command_takes_targets(make_user):
    from io import StringIO

    from django.core.management import call_command

    from accounts.models import ApiKey

    owner = make_user("analyst")
    err = StringIO()
    call_command("create_api_key", "--user", owner.username, "--name", "nightly", "--targets", "pg15, staging",
                 stdout=StringIO(), stderr=err)
    assert ApiKey.objects.get().targets == ["pg15", "staging"] and "targets pg15, staging" in err.getvalue()


def test_admin_key_form_takes_targets(client, make_user):
    from accounts.models import ApiKey

    admin = make_user("admin", username="root")
    client.force_login(admin)
    response = client.post("/admin/accounts/apikey/add/", {"user": admin.pk, "name": "k", "scopes": ["read"],
                                                           "expires_in": "90d", "targets": "pg15\nBad Name"})
    assert response.status_code == 200 and "is not a target name" in response.content.decode()
    response = client.post("/admin/accounts/apikey/add/", {"user": admin.pk, "name": "k", "scopes": ["read"],
                                                           "expires_in": "90d", "targets": "pg15, default"})
    assert response.status_code in (200, 302)
    assert ApiKey.objects.get().targets == ["pg15", "default"]
