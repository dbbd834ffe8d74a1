"""Issue 18, the seed's tables in the admin: substring search backed by pg_trgm, the delete confirmation names
the cascaded posts, estimated counts read as estimates, and every change is in the audit trail."""

import pytest
from django.db import connection
from django.test.utils import override_settings

from blog.models import BlogUser, Post
from blog.search_schema import SEARCH_INDEXES
from dbtools.models import AuditEvent
from tests.factories import BlogUserFactory, PostFactory

pytestmark = pytest.mark.django_db


def listed(response):
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.mark.parametrize("term", ["vacuum", "VACUUM", "post 19", "Post 19 about vacuum tuning", "out vac"])
def test_post_search_is_a_case_insensitive_substring_of_the_title(client_for, term):
    wanted = PostFactory(title="Post 19 about vacuum tuning")
    PostFactory(title="Post 2 about indexes")
    response = client_for("admin").get("/admin/blog/post/", {"q": term})
    assert listed(response) == {wanted.pk}


def test_post_search_by_id_and_special_characters(client_for):
    percent = PostFactory(title="100% done_here")
    other = PostFactory(title="1000 done here")
    client = client_for("admin")
    assert listed(client.get("/admin/blog/post/", {"q": "0% done_"})) == {percent.pk}
    assert other.pk in listed(client.get("/admin/blog/post/", {"q": str(other.pk)}))
    assert client.get("/admin/blog/post/", {"q": "9" * 30}).status_code == 200


def test_user_search_matches_part_of_username_or_email(client_for):
    ada = BlogUserFactory(username="Ada_Lovelace", email="ada@analytical.example")
    BlogUserFactory(username="grace", email="grace@navy.example")
    client = client_for("admin")
    assert listed(client.get("/admin/blog/bloguser/", {"q": "lovel"})) == {ada.pk}
    assert listed(client.get("/admin/blog/bloguser/", {"q": "ANALYTICAL"})) == {ada.pk}


def test_the_search_indexes_exist_and_the_planner_uses_them():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN ('posts', 'users')")
        assert set(SEARCH_INDEXES) <= {row[0] for row in cursor.fetchall()}
        # Tiny test tables: take the plain scans away to see whether the index can serve the search at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = Post.objects.filter(title__icontains="vacuum").order_by().explain()
    assert "idx_posts_title_trgm" in plan


def test_deleting_a_user_says_how_many_posts_go_with_them(client_for):
    author = BlogUserFactory()
    PostFactory.create_batch(3, user=author)
    kept = PostFactory()
    client = client_for("admin")
    page = client.get(f"/admin/blog/bloguser/{author.pk}/delete/").content.decode()
    assert "<li>Posts: 3</li>" in page
    assert "3 posts by this user, removed with them by the database (ON DELETE CASCADE)" in page
    assert BlogUser.objects.filter(pk=author.pk).exists()  # the confirmation deletes nothing
    response = client.post(f"/admin/blog/bloguser/{author.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(Post.objects.values_list("pk", flat=True)) == [kept.pk]
    event = AuditEvent.objects.get(action="blog.bloguser.delete")
    assert (event.target, event.details["posts"], event.actor_name) == (f"users:{author.pk}", 3, "admin-user")


def test_bulk_delete_of_users_counts_the_posts_of_all(client_for):
    authors = BlogUserFactory.create_batch(2)
    for author in authors:
        PostFactory.create_batch(2, user=author)
    page = client_for("admin").post("/admin/blog/bloguser/", {
        "action": "delete_selected", "_selected_action": [a.pk for a in authors]}).content.decode()
    assert "<li>Posts: 4</li>" in page and "4 posts by these users" in page
    assert Post.objects.count() == 4


@override_settings(ESTIMATED_COUNT_THRESHOLD=1)
def test_an_estimated_count_is_marked_and_has_separators(client_for):
    PostFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE posts")
        cursor.execute("UPDATE pg_class SET reltuples = 1001908 WHERE relname = 'posts'")
    page = client_for("admin").get("/admin/blog/post/").content.decode()
    assert "≈ 1,001,908 posts" in page
    assert "Show all" not in page  # nothing filtered: no "N results (Show all)"


def test_exact_counts_unfiltered_show_no_result_line_and_filtered_ones_do(client_for):
    PostFactory.create_batch(2, is_published=True)
    PostFactory(is_published=False)
    client = client_for("admin")
    page = client.get("/admin/blog/post/").content.decode()
    assert "3 posts" in page and "Show all" not in page and "≈" not in page
    filtered = client.get("/admin/blog/post/", {"is_published__exact": "1"}).content.decode()
    assert "2 results (" in filtered and "Show all" in filtered


def test_admin_changes_to_posts_are_audited(client_for):
    author = BlogUserFactory()
    client = client_for("admin")
    response = client.post("/admin/blog/post/add/", {"title": "New", "content": "Body", "user": author.pk,
                                                      "is_published": "true"})
    assert response.status_code == 302
    post = Post.objects.get(title="New")
    client.post(f"/admin/blog/post/{post.pk}/change/", {"title": "Renamed", "content": "Body", "user": author.pk,
                                                              "is_published": "false"})
    client.post("/admin/blog/post/", {"action": "unpublish", "_selected_action": [post.pk]})
    client.post(f"/admin/blog/post/{post.pk}/delete/", {"post": "yes"})
    events = list(AuditEvent.objects.order_by("id").values_list("action", "target", "details"))
    assert [e[:2] for e in events] == [("blog.post.create", f"posts:{post.pk}"),
                                        ("blog.post.update", f"posts:{post.pk}"),
                                        ("blog.post.update", f"posts:{post.pk}"),
                                        ("blog.post.delete", f"posts:{post.pk}")]
    assert events[1][2]["fields"] == ["is_published", "title"]
    assert events[2][2]["fields"] == ["is_published"]


def test_search_and_filter_together_and_an_empty_result(client_for):
    published = PostFactory(title="Tuning vacuum", is_published=True)
    PostFactory(title="Tuning vacuum again", is_published=False)
    client = client_for("admin")
    assert listed(client.get("/admin/blog/post/", {"q": "VACUUM", "is_published__exact": "1"})) == {published.pk}
    empty = client.get("/admin/blog/post/", {"q": "no such title"})
    assert empty.status_code == 200 and listed(empty) == set()
    assert "0 results" in empty.content.decode()


def test_a_term_that_fills_a_page_among_the_newest_rows_finds_them_all(client_for):
    # 60 matches: enough to fill a page (50) among the newest rows, the path that filters as usual.
    wanted = {post.pk for post in PostFactory.create_batch(60, title="About VACUUM")}
    PostFactory.create_batch(5, title="Other")
    response = client_for("admin").get("/admin/blog/post/", {"q": "vacuum"})
    assert response.context["cl"].result_count == 60
    assert listed(response) <= wanted and len(listed(response)) == 50


def test_the_fast_action_checkbox_is_the_html_django_renders(db):
    from django.contrib import admin as django_admin

    from blog.admin import PostAdmin

    post = PostFactory(title='Quotes " & <tags> \'here\'')
    ours = PostAdmin(Post, django_admin.site).action_checkbox(post)
    assert ours == django_admin.ModelAdmin(Post, django_admin.site).action_checkbox(post)
    assert f'value="{post.pk}"' in ours and "&lt;tags&gt;" in ours


def test_row_links_keep_the_search_and_filters_as_django_builds_them(client_for):
    from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
    from django.urls import reverse

    post = PostFactory(title="Tuning & vacuum", is_published=True)
    client = client_for("admin")
    page = client.get("/admin/blog/post/", {"q": "VACUUM", "is_published__exact": "1"})
    cl = page.context["cl"]
    expected = add_preserved_filters({"preserved_filters": cl.row_link_query, "opts": Post._meta},
                                     reverse("admin:blog_post_change", args=[post.pk]))
    assert "_changelist_filters=" in expected and "q%3DVACUUM" in expected
    assert page.content.decode().count(f'href="{expected.replace("&", "&amp;")}"') == 2  # the id and title links
