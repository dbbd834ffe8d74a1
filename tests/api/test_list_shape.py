"""One pagination style for every list (cursor, `page_size` 1..500), walked over the OpenAPI schema."""

import pytest

from dbtools.models import Backup, SavedQuery
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/schema/?format=json").json()


def list_operations(schema):
    """GET operations whose 200 body is a page of `results`."""
    for path, methods in schema["paths"].items():
        operation = methods.get("get")
        if operation is None:
            continue
        ref = operation["responses"]["200"].get("content", {}).get("application/json", {}).get("schema", {})
        component = schema["components"]["schemas"].get(ref.get("$ref", "/").rsplit("/", 1)[1], {})
        if "results" in component.get("properties", {}):
            yield path, operation, component


def test_every_list_is_cursor_paginated_in_the_schema(schema):
    lists = {path: (operation, page) for path, operation, page in list_operations(schema)}
    assert {"/api/v1/posts", "/api/v1/users", "/api/v1/backups", "/api/v1/saved-queries", "/api/v1/query-history",
            "/api/v1/audit"} <= set(lists)
    for path, (operation, page) in lists.items():
        names = {param["name"] for param in operation["parameters"]}
        assert {"cursor", "page_size"} <= names and not {"limit", "offset", "page"} & names, path
        assert set(page["properties"]) == {"next", "previous", "results"}, path
        size = next(param for param in operation["parameters"] if param["name"] == "page_size")["schema"]
        assert (size["minimum"], size["maximum"]) == (1, 500), path


def test_backups_list_pages_by_cursor_newest_first(api_as, admin_user):
    ids = [Backup.objects.create(file=f"/nonexistent/{n}.dump", status="success", user=admin_user).pk
           for n in range(5)]
    api = api_as("admin")
    seen, url = [], "/api/v1/backups?page_size=2"
    while url:
        page = api.get(url).json()
        assert set(page) == {"next", "previous", "results"}
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(ids, reverse=True)


@pytest.mark.parametrize("query,status,code", [
    ("limit=-201624&offset=1733714120481852358656", 400, "unknown_parameter"),  # issue 18: was a 500
    ("page_size=1733714120481852358656", 400, "invalid_page_size"),
    ("page_size=-1", 400, "invalid_page_size"),
    ("page_size=%C2%B2", 400, "invalid_page_size"),  # "²".isdigit() is True; int("²") fails
    ("cursor=not-base64!!", 404, "invalid_cursor"),
])
def test_backups_list_refuses_bad_paging_with_a_4xx(api_as, admin_user, query, status, code):
    Backup.objects.create(file="/nonexistent/x.dump", status="success", user=admin_user)
    response = api_as("admin").get(f"/api/v1/backups?{query}")
    assert response.status_code == status, response.content
    assert error_of(response)["code"] == code
    assert Backup.objects.count() == 1


def test_saved_queries_list_is_a_page_not_a_bare_array(api_as, admin_user):
    for n in range(3):
        SavedQuery.objects.create(name=f"q{n}", sql="SELECT 1", owner=admin_user, shared=True)
    page = api_as("admin").get("/api/v1/saved-queries?page_size=2").json()
    assert [row["name"] for row in page["results"]] == ["q2", "q1"]
    assert page["next"].startswith("http://testserver/api/v1/saved-queries?")
