"""/api/v1/monitoring/…: scopes, permissions, bad parameters."""

import pytest
from django.test import Client

from tests.conftest import legacy_api_key
from tests.factories import UserFactory

ENDPOINTS = ["overview", "activity", "locks", "tables", "indexes", "checks", "query-stats"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("scope", ["read", "monitor"])
def test_read_endpoints_with_read_or_monitor_scope(api_client_for, endpoint, scope):
    response = api_client_for("viewer", [scope]).get(f"/api/v1/monitoring/{endpoint}")
    assert response.status_code == 200
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_read_endpoints_refuse_a_key_without_the_scope(api_client_for, endpoint):
    response = api_client_for("admin", ["write"], username="writer").get(f"/api/v1/monitoring/{endpoint}")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_read_endpoints_refuse_a_role_without_the_permission(make_user):
    user = make_user("nobody")
    response = Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(user, ['read'])}").get("/api/v1/monitoring/overview")
    assert response.status_code == 403


def test_anonymous_is_refused(db):
    response = Client().get("/api/v1/monitoring/overview")
    assert response.status_code in (401, 403) and "error" in response.json()


def test_session_login_works_too(client, db):
    client.force_login(UserFactory(username="session-viewer", role="viewer"))
    assert client.get("/api/v1/monitoring/checks").json()["summary"]["green"] >= 0


@pytest.mark.parametrize("params, field", [
    ({"sort": "relname"}, "sort"), ({"dir": "sideways"}, "dir"), ({"page": "0"}, "page"), ({"page": "x"}, "page"),
])
def test_tables_bad_parameters_are_400(api_client_for, params, field):
    response = api_client_for("viewer", ["read"]).get("/api/v1/monitoring/tables", params)
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid_parameter" and field in body["details"]


def test_tables_page_beyond_the_end_is_404(api_client_for):
    response = api_client_for("viewer", ["read"]).get("/api/v1/monitoring/tables", {"page": "100000"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "page_not_found"


def test_tables_api_pages(api_client_for, settings):
    settings.MONITORING_TABLES_PER_PAGE = 2
    body = api_client_for("viewer", ["read"]).get("/api/v1/monitoring/tables", {"sort": "name", "page": 2}).json()
    assert body["page"] == 2 and len(body["rows"]) == 2 and body["count"] > 4 and body["dir"] == "asc"


def test_query_stats_bad_sort_is_400(api_client_for):
    response = api_client_for("viewer", ["read"]).get("/api/v1/monitoring/query-stats", {"sort": "bogus"})
    assert response.status_code == 400


def test_activity_bad_min_seconds_is_400(api_client_for):
    response = api_client_for("viewer", ["read"]).get("/api/v1/monitoring/activity", {"min_seconds": "-3"})
    assert response.status_code == 400


def test_backend_actions_need_post(api_client_for):
    response = api_client_for("operator", ["operate"]).get("/api/v1/monitoring/backends/1/cancel")
    assert response.status_code == 405


@pytest.mark.parametrize("path, param", [("/api/v1/monitoring/tables", "q"),
                                         ("/api/v1/monitoring/activity", "search"),
                                         ("/api/v1/monitoring/activity", "username")])
def test_a_nul_character_in_a_text_filter_is_400(api_client_for, path, param):
    """Found by tests/api/test_fuzz.py: PostgreSQL refused the NUL and the API answered 503."""
    response = api_client_for("viewer", ["read"]).get(path, {param: "pg\x00class"})
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid_parameter" and param in body["message"]
