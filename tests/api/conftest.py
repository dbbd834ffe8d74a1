import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import api_key_create


@pytest.fixture(autouse=True)
def fresh_throttle_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def key_for(make_user):
    """key_for("viewer", scopes=["read"]) → (ApiKey, plaintext) for a user of that role."""

    def make(role="admin", scopes=None, username=None, **kwargs):
        user = make_user(role, username=username or f"{role}-keyholder")
        return api_key_create(user=user, name=f"{role} test key", scopes=scopes, **kwargs)

    return make


@pytest.fixture
def api_as(key_for):
    """api_as("admin", scopes=[...]) → an APIClient sending `Authorization: Bearer <key>`."""

    def make(role="admin", scopes=None, **kwargs):
        _key, plaintext = key_for(role, scopes=scopes, **kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        client.plaintext = plaintext
        return client

    return make


def error_of(response):
    """The {"error": {...}} body of a response, asserting its shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]
