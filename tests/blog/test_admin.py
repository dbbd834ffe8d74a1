from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from blog.models import BlogUser, Post
from tests.factories import BlogUserFactory, PostFactory


def _count_queries(queries):
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_posts_changelist_lists_posts_with_their_authors(client_for):
    post = PostFactory(title="<b>Escaped & shown</b>")
    response = client_for("admin").get("/admin/blog/post/")
    assert response.status_code == 200
    assert b"&lt;b&gt;Escaped &amp; shown&lt;/b&gt;" in response.content
    assert post.user.username.encode() in response.content


def test_small_tables_get_an_exact_count(client_for):
    PostFactory.create_batch(3)
    client = client_for("admin")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/admin/blog/post/")
    assert response.context["cl"].result_count == 3
    assert _count_queries(ctx.captured_queries)


@override_settings(ESTIMATED_COUNT_THRESHOLD=1)
def test_large_tables_use_the_planner_estimate_instead_of_count(client_for):
    PostFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE posts")
    client = client_for("admin")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/admin/blog/post/")
    assert response.status_code == 200
    assert not _count_queries(ctx.captured_queries)
    assert any(q["sql"].startswith("EXPLAIN") for q in ctx.captured_queries)
    assert response.context["cl"].result_count >= 1


def test_changelist_query_count_stays_small(client_for):
    PostFactory.create_batch(60)
    client = client_for("admin")
    client.get("/admin/blog/post/")  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        client.get("/admin/blog/post/")
    assert len(ctx.captured_queries) <= 6


def test_publish_action_publishes_only_the_selected_posts(client_for):
    chosen, untouched = PostFactory(is_published=False), PostFactory(is_published=False)
    response = client_for("admin").post(
        "/admin/blog/post/", {"action": "publish", "_selected_action": [chosen.pk]}, follow=True
    )
    assert response.status_code == 200
    chosen.refresh_from_db()
    untouched.refresh_from_db()
    assert chosen.is_published is True and untouched.is_published is False


def test_viewer_can_read_posts_but_not_change_them(client_for):
    post = PostFactory()
    viewer = client_for("viewer")
    assert viewer.get("/admin/blog/post/").status_code == 200
    response = viewer.post(f"/admin/blog/post/{post.pk}/change/", {"title": "hacked", "content": "x",
                                                                   "user": post.user_id})
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.title != "hacked"


def test_duplicate_username_is_a_form_error_and_keeps_the_original(client_for):
    original = BlogUserFactory(username="taken", email="taken@example.com")
    response = client_for("admin").post(
        "/admin/blog/bloguser/add/", {"username": "taken", "email": "other@example.com", "is_active": "on"}
    )
    assert response.status_code == 200
    assert b"errornote" in response.content
    assert BlogUser.objects.filter(username="taken").count() == 1
    assert BlogUser.objects.get(pk=original.pk).email == "taken@example.com"


def test_deleting_a_user_in_the_admin_removes_its_posts(client_for):
    post = PostFactory()
    response = client_for("admin").post(f"/admin/blog/bloguser/{post.user_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Post.objects.filter(pk=post.pk).exists()
