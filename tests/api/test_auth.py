"""401 vs 403, the two header spellings, session auth, audit of failed attempts, throttling with Retry-After."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from dbtools.models import AuditEvent
from tests.api.conftest import error_of
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def call(header, url="/api/v1/me"):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.get(url)


@pytest.mark.parametrize("keyword", ["Bearer", "Api-Key", "bearer"])
def test_both_header_spellings_authenticate(key_for, keyword):
    api_key, plaintext = key_for("analyst", scopes=["read", "query"])
    response = call(f"{keyword} {plaintext}")
    assert response.status_code == 200
    assert response.json() == {"username": "analyst-keyholder", "email": "analyst-keyholder@example.com",
                               "role": "analyst", "scopes": ["read", "query"], "key_prefix": api_key.prefix}


@pytest.mark.parametrize("header,code", [
    (None, "not_authenticated"),
    ("Basic dXNlcjpwYXNz", "not_authenticated"),
    ("Bearer", "key_malformed"),
    ("Bearer not-a-key", "key_malformed"),
    ("Bearer pgd_short_secret", "key_malformed"),
    ("Bearer pgd_0123456789ab_wrongsecret", "key_invalid"),
    ("Bearer pgd_0123456789ab_" + "x" * 5000, "key_invalid"),
])
def test_missing_or_bad_keys_are_401_with_json(header, code):
    PostFactory()
    response = call(header, "/api/v1/posts/")
    assert response.status_code == 401
    assert error_of(response)["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_right_prefix_wrong_secret_is_401(key_for):
    api_key, plaintext = key_for("admin")
    response = call(f"Bearer {plaintext[:-2]}xx")
    assert response.status_code == 401 and error_of(response)["code"] == "key_invalid"


def test_failed_attempts_are_audited_without_the_key(key_for):
    api_key, plaintext = key_for("admin")
    forged = plaintext[:-4] + "AAAA"
    call(f"Bearer {forged}")
    event = AuditEvent.objects.get(action="api_key.auth_failed")
    assert event.target == f"pgd_{api_key.prefix}"
    assert event.details["reason"] == "invalid"
    stored = f"{event.target} {event.details} {event.actor_name}"
    assert forged.split("_", 2)[2] not in stored and plaintext.split("_", 2)[2] not in stored


@pytest.mark.parametrize("role,scopes,method,url,status", [
    ("viewer", ["read"], "get", "/api/v1/posts/", 200),
    ("viewer", ["monitor"], "get", "/api/v1/posts/", 403),  # role allows, scope does not
    ("viewer", ["read"], "post", "/api/v1/posts/", 403),  # scope and role both lack write
    ("admin", ["read"], "post", "/api/v1/posts/", 403),  # role allows, scope does not
    ("admin", ["write"], "get", "/api/v1/posts/", 403),  # write does not imply read
    ("admin", ["admin"], "get", "/api/v1/users/", 200),
    ("operator", ["monitor"], "get", "/api/v1/me", 200),  # /me needs only a valid key
])
def test_scope_and_role_missing_is_403(api_as, role, scopes, method, url, status):
    response = getattr(api_as(role, scopes=scopes), method)(url, {}, format="json")
    assert response.status_code == status, response.content
    if status == 403:
        error = error_of(response)
        assert error["code"] == "permission_denied" and "blog." in error["message"]


def test_session_login_works_and_role_decides(client_for):
    viewer = client_for("viewer")
    assert viewer.get("/api/v1/posts/").status_code == 200
    assert viewer.get("/api/v1/me").json()["scopes"] is None
    response = viewer.post("/api/v1/posts/", {}, content_type="application/json")
    assert response.status_code == 403


def test_session_post_without_csrf_token_is_a_json_403(make_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_user("admin", username="root"))
    response = client.post("/api/v1/users/", {"username": "u", "email": "u@example.com"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"apikey": "3/min", "anon": "2/min"})


def test_key_throttle_429_with_retry_after(api_as, low_rates):
    api, other = api_as("viewer", scopes=["read"]), api_as("analyst", scopes=["read"])
    statuses = [api.get("/api/v1/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/me")
    assert error_of(response)["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60
    assert other.get("/api/v1/me").status_code == 200  # per key, not global


def test_anonymous_throttle_per_ip(client, low_rates, db):
    statuses = [client.get("/api/v1/health").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/v1/health", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_a_key_request_costs_one_query_for_key_owner_and_permissions(api_as, django_assert_num_queries):
    PostFactory()
    api = api_as("viewer", scopes=["read"])
    api.get("/api/v1/me")  # the first use writes last_used; later ones within the minute do not
    with django_assert_num_queries(2):  # key + owner + permissions, then the page of posts
        assert api.get("/api/v1/posts/").status_code == 200


def test_group_and_user_permission_changes_apply_to_keys_on_the_next_request(api_as, make_user):
    from django.contrib.auth.models import Group, Permission

    api = api_as("viewer", scopes=["read", "monitor"])
    assert api.get("/api/v1/posts/").status_code == 200
    view_post = Permission.objects.get(codename="view_post", content_type__app_label="blog")
    Group.objects.get(name="viewer").permissions.remove(view_post)  # an admin edits the group in the admin
    assert api.get("/api/v1/posts/").status_code == 403
    make_user("viewer", username="viewer-keyholder").user_permissions.add(view_post)  # …or grants it directly
    assert api.get("/api/v1/posts/").status_code == 200


def test_key_guessing_from_one_ip_ends_in_429_and_stops_auditing(low_rates):
    PostFactory()
    statuses = [call("Bearer pgd_0123456789ab_guess").status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    # one row per address and minute, counting the audited attempts
    assert AuditEvent.objects.get(action="api_key.auth_failed").details["count"] == 2


def test_browsable_api_renders_and_its_form_posts_work(make_user):
    from rest_framework.test import APIClient as Client

    client = Client()
    client.force_login(make_user("admin", username="root"))
    page = client.get("/api/v1/posts/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"Post List" in page.content
    response = client.post("/api/v1/users/", {"username": "formuser", "email": "f@example.com",
                                              "csrfmiddlewaretoken": "ignored-by-force-login"}, format="multipart")
    assert response.status_code == 201, response.content
    assert client.options("/api/v1/posts/").status_code == 200
