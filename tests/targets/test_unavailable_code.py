"""One answer for "a registered target cannot be reached or used": 424 target_unavailable on the tools' endpoints
and on /api/v1/targets alike (503 is pgdeck's own database, or its own missing PGDECK_TARGETS_KEYS); the OpenAPI
schema documents 424 on each such operation."""

import pytest
from django.test import Client

from targets import crypto
from targets.models import Target
from tests.conftest import legacy_api_key
from tests.servers import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_user):
    user = make_user("admin", username="root")
    return Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(user, ['admin'])}")


def register(name, **fields):
    target = Target(name=name, host="127.0.0.1", port=free_port(), dbname="x", user="x", sslmode="disable", **fields)
    target.password = "pw-of-the-target"
    target.save()
    return target


def error_of(response):
    return response.status_code, response.json()["error"]["code"]


def test_a_password_no_key_decrypts_is_424_on_the_tools_and_on_the_targets_api(api, settings):
    settings.TARGETS_ENCRYPTION_KEYS = [crypto.generate_key()]
    register("lostkey")
    settings.TARGETS_ENCRYPTION_KEYS = [crypto.generate_key()]  # the old key was dropped before a rotation
    test = api.post("/api/v1/targets/lostkey/test", content_type="application/json")
    assert error_of(test) == (424, "target_unavailable") and "cannot be decrypted" in test.json()["error"]["message"]
    tool = api.get("/api/v1/monitoring/overview?target=lostkey")
    assert error_of(tool) == (424, "target_unavailable")
    backup = api.post("/api/v1/backups", {"target": "lostkey"}, content_type="application/json")
    assert error_of(backup) == (424, "target_unavailable")


def test_a_refused_port_is_424_on_tools_and_a_failed_test_result_on_the_test_endpoint(api):
    register("refused")
    assert error_of(api.get("/api/v1/monitoring/overview?target=refused")) == (424, "target_unavailable")
    result = api.post("/api/v1/targets/refused/test", content_type="application/json")
    assert result.status_code == 200 and result.json()["ok"] is False
    assert "connection refused" in result.json()["error"]


def test_missing_keys_are_pgdecks_own_503(api, settings):
    settings.TARGETS_ENCRYPTION_KEYS = []
    response = api.post("/api/v1/targets", {"name": "new", "host": "h.invalid", "dbname": "d", "user": "u",
                                            "password": "pw"}, content_type="application/json")
    assert error_of(response) == (503, "targets_keys_missing") and not Target.objects.exists()


def test_the_schema_documents_424_where_a_target_is_named(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    for path, method in [("/api/v1/targets/{name}/test", "post"), ("/api/v1/targets/{name}", "get"),
                         ("/api/v1/monitoring/overview", "get"), ("/api/v1/backups", "post"),
                         ("/api/v1/backups/{id}/restore", "post")]:
        assert "424" in paths[path][method]["responses"], (path, method)
    assert "424" not in paths["/api/v1/posts"]["get"]["responses"]
