"""/api/v1/users/ and /api/v1/posts/: CRUD, filters, search, cursor pagination, DB cascade."""

import pytest
from django.db import connection

from blog.models import BlogUser, Post
from tests.api.conftest import error_of
from tests.factories import BlogUserFactory, PostFactory

pytestmark = pytest.mark.django_db


def test_create_retrieve_update_delete_post(api_as):
    api = api_as("admin", scopes=["read", "write"])
    author = BlogUserFactory()
    created = api.post("/api/v1/posts", {"title": "Hello", "content": "World", "user_id": author.id}, format="json")
    assert created.status_code == 201, created.content
    post_id = created.json()["id"]
    assert created.json()["is_published"] is False
    assert api.get(f"/api/v1/posts/{post_id}").json()["title"] == "Hello"

    patched = api.patch(f"/api/v1/posts/{post_id}", {"is_published": True}, format="json")
    assert patched.status_code == 200 and patched.json()["is_published"] is True
    put = api.put(f"/api/v1/posts/{post_id}", {"title": "New", "content": "C", "user_id": author.id,
                                                 "is_published": False}, format="json")
    assert put.status_code == 200
    assert Post.objects.get(pk=post_id).title == "New"

    assert api.delete(f"/api/v1/posts/{post_id}").status_code == 204
    assert not Post.objects.filter(pk=post_id).exists()
    assert error_of(api.get(f"/api/v1/posts/{post_id}"))["code"] == "not_found"


def test_create_and_update_user(api_as):
    api = api_as("admin", scopes=["read", "write"])
    response = api.post("/api/v1/users", {"username": "ada", "email": "ada@example.com"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["is_active"] is True and body["created_at"]
    response = api.patch(f"/api/v1/users/{body['id']}", {"is_active": False}, format="json")
    assert response.json()["is_active"] is False
    assert BlogUser.objects.get(pk=body["id"]).is_active is False


def test_deleting_a_user_cascades_to_posts_in_the_database(api_as, django_assert_max_num_queries):
    api = api_as("admin", scopes=["read", "write"])
    author, other = BlogUserFactory(), BlogUserFactory()
    PostFactory.create_batch(3, user=author)
    kept = PostFactory(user=other)
    response = api.delete(f"/api/v1/users/{author.id}")
    assert response.status_code == 204
    assert not BlogUser.objects.filter(pk=author.id).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM posts WHERE user_id = %s", [author.id])
        assert cursor.fetchone()[0] == 0
    assert Post.objects.filter(pk=kept.pk).exists()


def test_duplicate_username_is_a_409_conflict_and_keeps_the_first(api_as):
    api = api_as("admin", scopes=["read", "write"])
    BlogUserFactory(username="taken", email="first@example.com")
    response = api.post("/api/v1/users", {"username": "taken", "email": "second@example.com"}, format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict" and "username" in error["details"]
    assert BlogUser.objects.get(username="taken").email == "first@example.com"


def test_filters_and_search(api_as):
    api = api_as("viewer", scopes=["read"])
    ada, bob = BlogUserFactory(username="ada"), BlogUserFactory(username="bob", email="bob@corp.test")
    PostFactory(title="Postgres tips", user=ada, is_published=True)
    PostFactory(title="Django tips", user=ada, is_published=False)
    PostFactory(title="Gardening", user=bob, is_published=True)

    def titles(query):
        response = api.get(f"/api/v1/posts?{query}")
        assert response.status_code == 200, response.content
        return sorted(post["title"] for post in response.json()["results"])

    assert titles("is_published=true") == ["Gardening", "Postgres tips"]
    assert titles(f"user_id={ada.id}&is_published=false") == ["Django tips"]
    assert titles("search=TIPS") == ["Django tips", "Postgres tips"]
    assert len(titles("is_published=&user_id=&search=")) == 3  # empty filters filter nothing
    users = api.get("/api/v1/users?search=corp.test").json()["results"]
    assert [user["username"] for user in users] == ["bob"]


def test_cursor_pagination_walks_every_row_once(api_as):
    api = api_as("viewer", scopes=["read"])
    posts = PostFactory.create_batch(7)
    seen, url, pages = [], "/api/v1/posts?page_size=3", 0
    while url:
        body = api.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        seen += [post["id"] for post in body["results"]]
        url, pages = body["next"], pages + 1
    assert seen == sorted((post.id for post in posts), reverse=True)
    assert pages == 3
