"""/api/v1/targets: CRUD for admins, list for others, password write-only, strict bodies, audit, no 500s."""

import pytest
from django.contrib.auth.models import Group

from core.models import AuditEvent
from targets.models import Target, TargetGrant
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db
BODY = {"name": "prod", "host": "db.example.com", "port": 5432, "dbname": "shop", "user": "reader",
        "password": "api-secret-pw", "sslmode": "verify-full", "environment": "production"}


def test_admin_creates_reads_changes_tests_and_deletes(api_as):
    api = api_as("admin")
    response = api.post("/api/v1/targets", BODY, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["has_password"] is True and "password" not in data and "api-secret-pw" not in response.content.decode()
    assert Target.objects.get(name="prod").password == "api-secret-pw"
    listed = api.get("/api/v1/targets").json()
    assert [t["name"] for t in listed["results"]] == ["default", "prod"] and listed["results"][0]["is_default"]
    response = api.patch("/api/v1/targets/prod", {"host": "db2.example.com"}, format="json")
    assert response.status_code == 200 and response.json()["host"] == "db2.example.com"
    assert Target.objects.get(name="prod").password == "api-secret-pw"  # kept when not sent
    assert api.patch("/api/v1/targets/prod", {"password": ""}, format="json").json()["has_password"] is False
    result = api.post("/api/v1/targets/default/test", format="json").json()
    assert result["ok"] is True and result["server_version"]
    result = api.post("/api/v1/targets/prod/test", format="json").json()
    assert result["ok"] is False and "db2.example.com" in result["error"] and "\n" not in result["error"]
    assert api.delete("/api/v1/targets/prod").status_code == 204 and not Target.objects.exists()
    actions = list(AuditEvent.objects.filter(target__in=["prod", "default"]).values_list("action", flat=True))
    assert sorted(set(actions)) == ["target.create", "target.delete", "target.test", "target.update"]
    assert not any("api-secret-pw" in str(e.details) for e in AuditEvent.objects.all())


@pytest.mark.parametrize("body, status, code", [
    ({**BODY, "nonsense": 1}, 400, "unknown_field"),
    ({**BODY, "port": 70000}, 400, "invalid"),
    ({**BODY, "port": "5432"}, 400, "invalid"),
    ({**BODY, "sslmode": "sometimes"}, 400, "invalid"),
    ({**BODY, "name": "Bad Name"}, 400, "invalid"),
    ({**BODY, "name": "default"}, 409, "conflict"),
    ({k: v for k, v in BODY.items() if k != "host"}, 400, "invalid"),
    # A host getaddrinfo's IDNA codec cannot encode (a 64-character label, a control character, an empty label)
    # raised UnicodeError on every later connection: a 500 on each tool page (found by `make fuzz`).
    ({**BODY, "host": "ld4." + "q" * 64}, 400, "invalid_target"),
    ({**BODY, "host": "db\x9d"}, 400, "invalid_target"),
    ({**BODY, "host": "db..example.com"}, 400, "invalid_target"),
])
def test_bad_bodies_are_4xx_and_store_nothing(api_as, body, status, code):
    response = api_as("admin").post("/api/v1/targets", body, format="json")
    assert response.status_code == status, response.content
    assert error_of(response)["code"] == code
    assert not Target.objects.exists() and not AuditEvent.objects.filter(action="target.create").exists()


def test_taken_name_is_a_conflict_and_read_only_targets_refuse(api_as):
    api = api_as("admin")
    api.post("/api/v1/targets", BODY, format="json")
    assert error_of(api.post("/api/v1/targets", BODY, format="json"))["code"] == "conflict"
    Target.objects.create(name="filed", host="h", dbname="d", user="u", source="file")
    for url in ("/api/v1/targets/filed", "/api/v1/targets/default"):
        response = api.patch(url, {"host": "x"}, format="json")
        assert response.status_code == 409 and error_of(response)["code"] == "target_read_only"
        assert api.delete(url).status_code == 409
    assert Target.objects.get(name="filed").host == "h"
    assert api.get("/api/v1/targets/missing").status_code == 404
    assert api.post("/api/v1/targets/missing/test", format="json").status_code == 404
    assert error_of(api.patch("/api/v1/targets/prod", {"name": "x"}, format="json"))["code"] == "unknown_field"


def test_others_list_only_what_they_may_use_and_write_nothing(api_as):
    admin = api_as("admin")
    admin.post("/api/v1/targets", BODY, format="json")
    admin.post("/api/v1/targets", {**BODY, "name": "hidden"}, format="json")
    TargetGrant.objects.create(target=Target.objects.get(name="prod"), group=Group.objects.get(name="analyst"),
                               capability="query")
    analyst = api_as("analyst")
    listed = analyst.get("/api/v1/targets").json()["results"]
    assert [(t["name"], t["capabilities"]) for t in listed] == [("default", ["query", "monitor"]), ("prod", ["query"])]
    assert analyst.get("/api/v1/targets/hidden").status_code == 404
    assert analyst.post("/api/v1/targets", {**BODY, "name": "mine"}, format="json").status_code == 403
    assert analyst.patch("/api/v1/targets/prod", {"host": "x"}, format="json").status_code == 403
    assert analyst.delete("/api/v1/targets/prod").status_code == 403
    assert analyst.post("/api/v1/targets/prod/test", format="json").status_code == 403
    assert Target.objects.get(name="prod").host == "db.example.com" and Target.objects.count() == 2
    assert api_as("viewer").get("/api/v1/targets?bogus=1").status_code == 400
