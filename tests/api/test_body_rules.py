"""The body rules every write shares (core/api/serializers.py), each as the schema states it."""

import pytest

from blog.models import BlogUser, Post
from dbtools.models import Backup, SavedQuery
from tests.api.conftest import error_of
from tests.factories import BlogUserFactory, PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_as):
    return api_as("admin")


@pytest.mark.parametrize("url,body,field", [
    ("/api/v1/posts", {"title": "t", "content": "c", "user_id": "{author}", "is_published": 0}, "is_published"),
    ("/api/v1/posts", {"title": "t", "content": "c", "user_id": "{author}", "is_published": "true"}, "is_published"),
    ("/api/v1/posts", {"title": 123, "content": "c", "user_id": "{author}"}, "title"),
    ("/api/v1/posts", {"title": "t", "content": "c", "user_id": "{author_text}"}, "user_id"),
    ("/api/v1/users", {"username": "u", "email": "u@example.com", "is_active": 1}, "is_active"),
    ("/api/v1/saved-queries", {"name": "n", "sql": "SELECT 1", "shared": 0}, "shared"),
    ("/api/v1/backups", {"tables": [1]}, "tables"),
    ("/api/v1/backups", {"verify": "yes"}, "verify"),
    ("/api/v1/query", {"sql": "SELECT 1", "limit": "5"}, "limit"),
    ("/api/v1/query", {"sql": "SELECT 1", "limit": 5.0}, "limit"),
])
def test_values_must_have_the_json_type_the_schema_gives(api, url, body, field):
    """DRF alone takes 0 and "true" for a boolean, "5" and 5.0 for an integer, 123 for a text."""
    author = BlogUserFactory()
    body = {key: {"{author}": author.pk, "{author_text}": str(author.pk)}.get(value, value)
            if isinstance(value, str) else value for key, value in body.items()}
    before = (Post.objects.count(), BlogUser.objects.count(), SavedQuery.objects.count(), Backup.objects.count())
    response = api.post(url, body, format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid" and list(error["details"]) == [field]
    assert error["message"].startswith(f"The request is not valid: {field}: ") and "Must be a JSON " in error["message"]
    assert (Post.objects.count(), BlogUser.objects.count(), SavedQuery.objects.count(),
            Backup.objects.count()) == before


def test_text_is_taken_as_sent_so_the_length_limit_counts_what_was_sent(api):
    """DRF trimmed first: " " + 50 characters passed a 50-character limit the schema says it breaks."""
    response = api.post("/api/v1/users", {"username": " " + "u" * 50, "email": "u@example.com"}, format="json")
    assert response.status_code == 400 and "username" in error_of(response)["details"]
    assert not BlogUser.objects.exists()
    kept = api.post("/api/v1/users", {"username": " spaced ", "email": "s@example.com"}, format="json")
    assert kept.status_code == 201 and BlogUser.objects.get().username == " spaced "


def test_a_taken_unique_value_is_a_409_naming_the_field(api):
    PostFactory(user=BlogUserFactory(username="taken", email="taken@example.com"))
    other = BlogUserFactory(username="other", email="other@example.com")
    response = api.patch(f"/api/v1/users/{other.pk}", {"email": "taken@example.com"}, format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict" and list(error["details"]) == ["email"]
    other.refresh_from_db()
    assert other.email == "other@example.com"


@pytest.mark.parametrize("body", [{"encrypt": True, "format": "directory"}, {"encrypt": True}])
def test_backup_encryption_errors_name_the_api_field(api, settings, body):
    """They read "--encrypt needs BACKUP_ENCRYPTION_KEY" (the CLI's flag) in the API."""
    settings.BACKUP_ENCRYPTION_KEY = "a-key" if body.get("format") == "directory" else ""
    response = api.post("/api/v1/backups", body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert list(error["details"]) == ["encrypt"] and error["message"].startswith("The request is not valid: encrypt:")
    assert "--" not in response.content.decode()
    assert not Backup.objects.exists()


def test_the_schema_says_what_encrypt_needs(client, settings):
    settings.BACKUP_ENCRYPTION_KEY = ""
    body = client.get("/api/schema/?format=json").json()["components"]["schemas"]["BackupCreateRequest"]
    assert body["additionalProperties"] is False
    settings.BACKUP_ENCRYPTION_KEY = "a-key"
    body = client.get("/api/schema/?format=json").json()["components"]["schemas"]["BackupCreateRequest"]
    assert body["not"]["properties"] == {"encrypt": {"enum": [True]}, "format": {"enum": ["directory"]}}


def test_monitoring_all_is_a_boolean(api):
    response = api.get("/api/v1/monitoring/activity?all=maybe")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_parameter"
    assert api.get("/api/v1/monitoring/activity?all=true").status_code == 200
