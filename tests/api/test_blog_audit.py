"""Issue 18: changes to posts and users through the API are in the audit trail, in the write's transaction."""

import pytest

from blog.models import BlogUser, Post
from dbtools.models import AuditEvent
from tests.factories import BlogUserFactory

pytestmark = pytest.mark.django_db


def test_api_changes_to_posts_and_users_are_audited(api_as):
    api = api_as("admin", scopes=["read", "write"])
    user_id = api.post("/api/v1/users/", {"username": "ada", "email": "ada@example.com"}, format="json").json()["id"]
    post_id = api.post("/api/v1/posts/", {"title": "T", "content": "C", "user_id": user_id},
                       format="json").json()["id"]
    api.patch(f"/api/v1/posts/{post_id}/", {"is_published": True}, format="json")
    assert api.delete(f"/api/v1/users/{user_id}/").status_code == 204
    events = list(AuditEvent.objects.filter(action__startswith="blog.").order_by("id")
                  .values_list("action", "target", "actor_name"))
    assert events == [("blog.bloguser.create", f"users:{user_id}", "admin-keyholder"),
                      ("blog.post.create", f"posts:{post_id}", "admin-keyholder"),
                      ("blog.post.update", f"posts:{post_id}", "admin-keyholder"),
                      ("blog.bloguser.delete", f"users:{user_id}", "admin-keyholder")]
    assert AuditEvent.objects.get(action="blog.bloguser.delete").details["posts"] == 1
    assert not Post.objects.filter(pk=post_id).exists()


def test_a_refused_api_change_writes_no_audit_event(api_as):
    api = api_as("admin", scopes=["read", "write"])
    BlogUserFactory(username="taken", email="taken@example.com")
    response = api.post("/api/v1/users/", {"username": "taken", "email": "new@example.com"}, format="json")
    assert response.status_code in (400, 409)
    assert not AuditEvent.objects.filter(action__startswith="blog.").exists()
    assert BlogUser.objects.filter(username="taken").count() == 1
