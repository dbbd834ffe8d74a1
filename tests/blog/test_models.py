from datetime import UTC, datetime, timedelta

from django.db import connection

from blog.models import BlogUser, Post
from tests.factories import BlogUserFactory, PostFactory


def test_database_defaults_fill_new_rows(db):
    user = BlogUser.objects.create(username="ada", email="ada@example.com")
    user.refresh_from_db()
    assert user.is_active is True
    assert user.created_at is not None and user.created_at.tzinfo is not None
    post = Post.objects.create(title="t", content="c", user=user)
    post.refresh_from_db()
    assert post.is_published is False


def test_timestamps_are_stored_as_utc_wall_clock(db):
    user = BlogUserFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT created_at, (now() AT TIME ZONE 'UTC') FROM users WHERE id = %s", [user.pk])
        stored, utc_now = cursor.fetchone()
    assert abs(utc_now - stored) < timedelta(minutes=1)


def test_updated_at_changes_on_every_save(db):
    post = PostFactory()
    post.refresh_from_db()
    first = post.updated_at
    with connection.cursor() as cursor:  # age the row so the next save must move it forward
        cursor.execute("UPDATE posts SET updated_at = updated_at - interval '1 hour' WHERE id = %s", [post.pk])
    post.refresh_from_db()
    post.title = "edited"
    post.save()
    post.refresh_from_db()
    assert post.updated_at > first - timedelta(seconds=1)
    assert post.updated_at > datetime.now(UTC) - timedelta(minutes=1)


def test_deleting_a_user_with_plain_sql_cascades_to_posts(db):
    post = PostFactory()
    other = PostFactory()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM users WHERE id = %s", [post.user_id])
    assert not Post.objects.filter(pk=post.pk).exists()
    assert Post.objects.filter(pk=other.pk).exists()


def test_deleting_a_user_through_django_cascades_in_the_database(db):
    post = PostFactory()
    post.user.delete()
    assert not Post.objects.filter(pk=post.pk).exists()
