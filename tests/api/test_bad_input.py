"""Bad input on every endpoint: a JSON 4xx in the {"error": {...}} shape, never a 500, and nothing changed."""

import base64
import json

import pytest
from django.test import override_settings

from blog.models import BlogUser, Post
from tests.api.conftest import error_of
from tests.factories import BlogUserFactory, PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(api_as):
    return api_as("admin", scopes=["read", "write"])


@pytest.fixture
def post():
    return PostFactory(title="Original", content="Body")


def raw(api, method, url, body, content_type="application/json"):
    return getattr(api, method)(url, data=body, content_type=content_type)


def assert_unchanged(post):
    post.refresh_from_db()
    assert (post.title, post.content) == ("Original", "Body")
    assert Post.objects.count() == 1


@pytest.mark.parametrize("method,path", [("post", "/api/v1/posts"), ("patch", "/api/v1/posts/{id}"),
                                         ("put", "/api/v1/posts/{id}"), ("post", "/api/v1/users"),
                                         ("patch", "/api/v1/users/{user_id}")])
@pytest.mark.parametrize("body,code", [
    ('{"title": "x",', "parse_error"),
    ("[1, 2]", "invalid"),
    ('"just a string"', "invalid"),
    ('{"title": NaN}', "parse_error"),
])
def test_malformed_json_is_a_400(writer, post, method, path, body, code):
    url = path.format(id=post.id, user_id=post.user_id)
    response = raw(writer, method, url, body)
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == code
    assert_unchanged(post)


@pytest.mark.parametrize("method,path", [("post", "/api/v1/posts"), ("patch", "/api/v1/posts/{id}"),
                                         ("post", "/api/v1/users"), ("put", "/api/v1/users/{user_id}")])
def test_unknown_and_read_only_fields_are_refused(writer, post, method, path):
    url = path.format(id=post.id, user_id=post.user_id)
    response = raw(writer, method, url, json.dumps({"title": "Changed", "titel": "typo", "id": 5}))
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "unknown_field"
    assert error["details"]["titel"] == "Unknown field."
    assert error["details"]["id"] == "This field is read-only."
    assert_unchanged(post)


@pytest.mark.parametrize("payload,field", [
    ({"title": 123, "content": "c", "user_id": "abc"}, "user_id"),
    ({"title": "x" * 201, "content": "c", "user_id": 1}, "title"),
    ({"title": "t", "content": None, "user_id": 1}, "content"),
    ({"title": "t", "content": "nul \x00 byte", "user_id": 1}, "content"),
    ({"title": "t", "content": "c", "user_id": 1, "is_published": "maybe"}, "is_published"),
    ({"title": "t", "content": "c", "user_id": 1, "is_published": None}, "is_published"),
    ({"content": "c", "user_id": 1}, "title"),
])
def test_wrong_types_and_values_on_posts(writer, post, payload, field):
    payload = {key: (post.user_id if key == "user_id" and value == 1 else value) for key, value in payload.items()}
    response = writer.post("/api/v1/posts", payload, format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid" and field in error["details"]
    assert_unchanged(post)


@pytest.mark.parametrize("payload,field", [
    ({"username": "", "email": "a@example.com"}, "username"),
    ({"username": "u" * 51, "email": "a@example.com"}, "username"),
    ({"username": "ok", "email": "not-an-email"}, "email"),
    ({"username": ["list"], "email": "a@example.com"}, "username"),
    ({"username": "ok", "email": "a@example.com", "is_active": "yes please"}, "is_active"),
])
def test_wrong_types_and_values_on_users(writer, payload, field):
    before = BlogUser.objects.count()
    response = writer.post("/api/v1/users", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in error_of(response)["details"]
    assert BlogUser.objects.count() == before


def test_unsupported_media_type_is_a_415(writer, post):
    response = raw(writer, "patch", f"/api/v1/posts/{post.id}", "title=x", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert_unchanged(post)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_huge_body_is_a_413(writer, post):
    body = json.dumps({"title": "t", "content": "x" * 5000})
    response = raw(writer, "patch", f"/api/v1/posts/{post.id}", body)
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "body_too_large" and error["details"] == {"limit_bytes": 1000}
    assert_unchanged(post)


@pytest.mark.parametrize("content_type,body", [
    ("application/x-www-form-urlencoded", "title=Changed"),
    ("multipart/form-data; boundary=B",
     '--B\r\nContent-Disposition: form-data; name="title"\r\n\r\nChanged\r\n--B--\r\n'),
])
def test_form_encodings_are_a_415(writer, post, content_type, body):
    """The API takes JSON only (form encodings lose types), and its schema documents application/json alone."""
    response = raw(writer, "patch", f"/api/v1/posts/{post.id}", body, content_type=content_type)
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert_unchanged(post)


@pytest.mark.parametrize("user_id", [999999, 10**12])
def test_a_post_naming_no_author_is_a_404_on_user_id(writer, post, user_id):
    """A body naming an object that does not exist: 404 not_found, the field in details (as JSON:API does)."""
    for method, url in (("post", "/api/v1/posts"), ("patch", f"/api/v1/posts/{post.id}")):
        response = getattr(writer, method)(url, {"title": "Changed", "content": "c", "user_id": user_id},
                                           format="json")
        assert response.status_code == 404, response.content
        error = error_of(response)
        assert error["code"] == "not_found" and "user_id" in error["details"]
    assert_unchanged(post)


def _cursor(text):
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("path", ["/api/v1/posts", "/api/v1/users"])
@pytest.mark.parametrize("query,code", [
    ("cursor=not-base64!!", "invalid_cursor"),
    (f"cursor={_cursor('p=abc')}", "invalid_cursor"),
    (f"cursor={_cursor('o=-5')}", "invalid_cursor"),
    (f"cursor={_cursor('r=x')}", "invalid_cursor"),
    (f"cursor={_cursor('p=' + '9' * 30)}", "invalid_cursor"),
    ("cursor=%C3%A9", "invalid_cursor"),
    ("page_size=0", "invalid_page_size"),
    ("page_size=abc", "invalid_page_size"),
    ("page_size=100000", "invalid_page_size"),
    ("is_published=maybe", "invalid"),
    ("is_active=maybe", "invalid"),
    ("user_id=abc", "invalid"),
    ("user_id=99999999999", "invalid"),
    ("search=" + "x" * 101, "invalid"),
    ("colour=red", "unknown_parameter"),
])
def test_bad_query_parameters_are_a_4xx(api_as, path, query, code):
    """A bad parameter is a 400; a cursor not taken from a response points at no page: a 404 invalid_cursor."""
    PostFactory()
    if ("is_active" in query and "posts" in path) or (("is_published" in query or "user_id" in query)
                                                       and "users" in path):
        code = "unknown_parameter"
    response = api_as("viewer", scopes=["read"]).get(f"{path}?{query}")
    assert response.status_code == (404 if code == "invalid_cursor" else 400), response.content
    assert error_of(response)["code"] == code


def test_a_valid_cursor_position_beyond_int4_is_just_an_empty_page(api_as):
    PostFactory()
    response = api_as("viewer", scopes=["read"]).get(f"/api/v1/posts?cursor={_cursor('p=99999999999&r=1')}")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("url", ["/api/v1/posts/abc/", "/api/v1/posts/99999999999/", "/api/v1/nope",
                                 "/api/v2/posts/", "/api/v1/users/0/", "/api/v1/posts//", "/api/v1/"])
def test_unknown_urls_are_a_json_404(writer, url):
    response = writer.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_to_unknown_urls_are_a_json_404_even_with_csrf_checks(writer, post, method):
    """Found by tests/api/test_fuzz.py: the catch-all view answered the CSRF middleware's HTML 403."""
    writer.handler.enforce_csrf_checks = True
    writer.cookies["sessionid"] = "not-a-session"
    response = getattr(writer, method)(f"/api/v1/posts/{post.pk}.5/", {"title": "x"}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"
    assert_unchanged(post)


@pytest.mark.parametrize("canonical", ["/api/v1/posts", "/api/v1/me", "/api/v1/backups", "/api/v1/query-history",
                                       "/api/v1/saved-queries", "/api/v1/monitoring/overview"])
def test_the_trailing_slash_form_answers_the_same_as_the_canonical_path(api_as, canonical):
    """One rule: endpoints have no trailing slash; `…/` answers the same (no redirect: bodies survive)."""
    writer = api_as("admin")  # every scope
    PostFactory.create_batch(3)
    plain, slashed = writer.get(f"{canonical}?page_size=1"), writer.get(f"{canonical}/?page_size=1")
    if canonical == "/api/v1/me":
        plain, slashed = writer.get(canonical), writer.get(f"{canonical}/")
    assert plain.status_code == slashed.status_code == 200, slashed.content
    if canonical != "/api/v1/monitoring/overview":  # live server numbers change between two calls
        assert plain.json() == slashed.json()


def test_writes_to_the_trailing_slash_form_work_and_links_use_the_canonical_path(writer, post):
    created = writer.post("/api/v1/posts/", {"title": "Slash", "content": "c", "user_id": post.user_id},
                          format="json")
    assert created.status_code == 201, created.content
    changed = writer.patch(f"/api/v1/posts/{created.json()['id']}/", {"title": "Slashed"}, format="json")
    assert changed.status_code == 200 and Post.objects.get(pk=created.json()["id"]).title == "Slashed"
    page = writer.get("/api/v1/posts/?page_size=1").json()
    assert page["next"].startswith("http://testserver/api/v1/posts?")
    response = writer.get("/api/v1/nope/")
    assert response.status_code == 404 and error_of(response)["message"] == "No API endpoint at /api/v1/nope/."


@pytest.mark.parametrize("method,url", [("delete", "/api/v1/posts"), ("post", "/api/v1/me"),
                                        ("put", "/api/v1/users"), ("post", "/api/v1/health")])
def test_wrong_method_is_a_json_405(writer, method, url):
    response = getattr(writer, method)(url, {}, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_delete_of_a_missing_post_is_a_404_and_deletes_nothing(writer, post):
    response = writer.delete(f"/api/v1/posts/{post.id + 1000}")
    assert response.status_code == 404
    assert_unchanged(post)


def test_health_answers_without_a_key(client):
    BlogUserFactory()
    response = client.get("/api/v1/health")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("kwargs,status,code", [
    ({"HTTP_ACCEPT": "application/xml"}, 406, "not_acceptable"),
    ({"path": "/api/v1/posts?format=xml"}, 404, "not_found"),
])
def test_unsupported_response_formats_are_json_errors(api_as, kwargs, status, code):
    kwargs = {"path": "/api/v1/posts", **kwargs}
    response = api_as("viewer", scopes=["read"]).get(**kwargs)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == code


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_an_encoded_newline_in_the_path_is_a_json_404(writer, post, method):
    """Found by tests/api/test_fuzz.py: '.' in the catch-all did not match a newline, so Django's HTML 404 answered."""
    response = getattr(writer, method)("/api/v1/saved-queries/a%0Ab", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert_unchanged(post)
