"""Unknown fields are a 400 on every write endpoint: walked over the OpenAPI schema, so a new endpoint is covered.

Every POST/PUT/PATCH operation the schema lists gets `{"nonsense": 1}` (alone, and next to a valid body where
there is one) for an object that exists; each must answer 400 `unknown_field` naming it, and nothing may change.
The rule lives in one place: core.api.serializers.StrictSerializerMixin (and EmptyBodySerializer for the
writes that take no body); the schema says it too (`additionalProperties: false`).
"""

import pytest
from django.db.models import Max

from blog.models import BlogUser, Post
from dbtools.models import AuditEvent, Backup, EditorTab, MigrationLog, QueryHistory, SavedQuery
from jobs.models import JobRun
from targets.models import Target
from tests.api.conftest import error_of
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db
WRITES = ("post", "put", "patch")
PID_CEILING = 4_194_304  # no backend has a pid above Linux's pid_max ceiling
# A valid body per operation, so the unknown field is the only thing wrong with the request.
VALID = {
    "/api/v1/posts": {"title": "t", "content": "c"},
    "/api/v1/posts/{id}": {"title": "t", "content": "c"},
    "/api/v1/users": {"username": "fresh", "email": "fresh@example.com"},
    "/api/v1/users/{id}": {"username": "fresh", "email": "fresh@example.com"},
    "/api/v1/backups": {"format": "plain"},
    "/api/v1/backups/{id}/restore": {"confirm": "default/nowhere"},
    "/api/v1/query": {"sql": "SELECT 1"},
    "/api/v1/query/explain": {"sql": "SELECT 1"},
    "/api/v1/query/export": {"sql": "SELECT 1"},
    "/api/v1/query/drafts": {"sql": "SELECT 1"},
    "/api/v1/query/drafts/{id}": {"sql": "SELECT 2"},
    "/api/v1/query/format": {"sql": "SELECT 1"},
    "/api/v1/jobs/exports": {"sql": "SELECT 1"},
    "/api/v1/saved-queries": {"name": "n", "sql": "SELECT 1"},
    "/api/v1/saved-queries/{id}": {"name": "n", "sql": "SELECT 1"},
    "/api/v1/saved-queries/{id}/run": {"params": {}},
    "/api/v1/migrations/upgrade": {"revision": "head"},
    "/api/v1/migrations/downgrade": {"revision": "base"},
    "/api/v1/targets": {"name": "fresh", "host": "h", "dbname": "d", "user": "u"},
    "/api/v1/targets/{name}": {"host": "h2"},
}


@pytest.fixture
def schema(client):
    return client.get("/api/schema/?format=json").json()


@pytest.fixture
def world(make_user):
    """One existing object behind every path parameter."""
    admin = make_user("admin", username="walker")
    post = PostFactory()
    return {
        "posts": post.pk, "users": post.user_id,
        "backups": Backup.objects.create(file="/nonexistent/x.dump", status="success", user=admin).pk,
        "saved-queries": SavedQuery.objects.create(name="s", sql="SELECT 1", owner=admin).pk,
        "query": QueryHistory.objects.create(query="SELECT 1", user=admin, status="running").pk,
        "drafts": EditorTab.objects.create(owner=admin, name="d", sql="SELECT 1").pk,
        "backends": PID_CEILING + 1,
        "jobs": JobRun.objects.create(kind="collect_stats", status="failed").pk,
        "targets": Target.objects.create(name="walked", host="h", dbname="d", user="u").name,
    }


def url_of(path, world):
    parts = path.split("/")
    return "/".join(str(world[parts[i - 1]]) if part.startswith("{") else part for i, part in enumerate(parts))


def state():
    models = (Post, BlogUser, Backup, SavedQuery, QueryHistory, MigrationLog, Target, EditorTab)
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
    rows["audit"] = AuditEvent.objects.aggregate(Max("pk"))
    return rows


def write_operations(schema):
    return [(path, method) for path, methods in schema["paths"].items() for method in methods if method in WRITES]


def test_the_walk_covers_every_write_operation(schema):
    operations = write_operations(schema)
    assert ("/api/v1/backups", "post") in operations
    assert len(operations) >= 20, operations


def test_every_request_body_in_the_schema_refuses_additional_properties(schema):
    for path, method in write_operations(schema):
        body = schema["paths"][path][method].get("requestBody")
        if body is None:
            continue
        assert list(body["content"]) == ["application/json"], (path, method)
        ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert schema["components"]["schemas"][ref]["additionalProperties"] is False, (path, method)


def test_unknown_fields_are_a_400_on_every_write_endpoint(schema, world, api_as):
    api = api_as("admin")  # every scope: the 400 must come from the body, not from a permission
    before = state()
    for path, method in write_operations(schema):
        url = url_of(path, world)
        valid = VALID[path] if "requestBody" in schema["paths"][path][method] else {}
        if path.startswith("/api/v1/posts"):
            valid = {**valid, "user_id": world["users"]}
        for body in ({"nonsense": 1}, {**valid, "nonsense": 1}):
            response = getattr(api, method)(url, body, format="json")
            assert response.status_code == 400, (method, url, body, response.content)
            error = error_of(response)
            assert error["code"] == "unknown_field", (method, url, error)
            assert error["details"] == {"nonsense": "Unknown field."}, (method, url, error)
    assert state() == before


def test_backup_with_an_unknown_field_is_refused_and_starts_nothing(api_as):
    """Issue 13 item 7: this answered 202 and started a backup."""
    response = api_as("admin").post("/api/v1/backups", {"nonsense": 1}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "unknown_field"
    assert not Backup.objects.exists()
