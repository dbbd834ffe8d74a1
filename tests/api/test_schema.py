"""The OpenAPI schema validates, documents the key auth and the shared Error; /api/docs/ needs no CDN."""

import re

import pytest
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_schema_validates_against_openapi_3(schema):
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")


def test_schema_documents_bearer_auth(schema):
    scheme = schema["components"]["securitySchemes"]["ApiKey"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert {"ApiKey": []} in schema["paths"]["/api/v1/posts"]["get"]["security"]


def test_every_operation_documents_its_errors_with_the_shared_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["properties"]) == {"code", "message", "details"}
    ref = {"$ref": "#/components/schemas/Error"}
    checked = 0
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert responses["429"]["content"]["application/json"]["schema"] == ref, (path, method)
        assert "503" in responses, (path, method)  # the database is down (health: its own body)
        if path != "/api/v1/health":
            assert responses["401"]["content"]["application/json"]["schema"] == ref, (path, method)
            assert "403" in responses, (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), (path, method)
        checked += 1
    assert checked >= 12


def test_blog_endpoints_are_described(schema):
    paths = schema["paths"]
    assert set(paths["/api/v1/posts"]) == {"get", "post"}
    assert set(paths["/api/v1/posts/{id}"]) == {"get", "put", "patch", "delete"}
    assert set(paths["/api/v1/users/{id}"]) == {"get", "put", "patch", "delete"}
    names = {param["name"] for param in paths["/api/v1/posts"]["get"]["parameters"]}
    assert {"cursor", "page_size", "search", "is_published", "user_id"} <= names
    post = schema["components"]["schemas"]["PostRequest"]
    assert set(post["required"]) == {"title", "content", "user_id"}


def test_docs_page_loads_its_assets_from_our_static(client):
    html = client.get("/api/docs/").content.decode()
    assert "<title>pgdeck API</title>" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no CDN or other external URL"
    assets = re.findall(r"""(?:src|href)="([^"]+)\"""", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if "?script" in asset:
            assert b"/api/schema/" in body
    assert "<script>" not in html  # the initialiser is a separate file (CSP without 'unsafe-inline')


def test_schema_generation_has_no_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))  # raises on any warning
    assert "securitySchemes" in target.read_text()
