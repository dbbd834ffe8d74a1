import io

import pytest
from django.core.management import CommandError, call_command

from blog.models import BlogUser, Post


def test_seed_demo_loads_users_and_posts_through_copy(db):
    call_command("seed_demo", users=20, posts=300, verbosity=0)
    assert BlogUser.objects.count() == 20
    assert Post.objects.count() == 300
    assert set(Post.objects.values_list("user_id", flat=True)) <= set(BlogUser.objects.values_list("id", flat=True))


def test_seed_demo_twice_adds_more_and_reset_starts_over(db):
    call_command("seed_demo", users=5, posts=10, verbosity=0)
    call_command("seed_demo", users=5, posts=10, verbosity=0)
    assert BlogUser.objects.count() == 10
    call_command("seed_demo", users=2, posts=3, reset=True, verbosity=0)
    assert (BlogUser.objects.count(), Post.objects.count()) == (2, 3)


def test_if_empty_keeps_existing_data(db):
    call_command("seed_demo", users=3, posts=3, verbosity=0)
    call_command("seed_demo", users=50, posts=50, if_empty=True, verbosity=0)
    assert BlogUser.objects.count() == 3


def test_posts_without_any_user_is_a_clear_error_and_loads_nothing(db):
    with pytest.raises(CommandError, match="posts need users"):
        call_command("seed_demo", users=0, posts=10, verbosity=0)
    assert Post.objects.count() == 0


def test_negative_counts_are_refused(db):
    with pytest.raises(CommandError, match="zero or more"):
        call_command("seed_demo", users=-1, posts=0, verbosity=0)


def test_seed_demo_says_what_runs_after_its_progress_bar(db):
    err = io.StringIO()
    call_command("seed_demo", users=5, posts=50, stdout=io.StringIO(), stderr=err)
    text = err.getvalue()
    bar_end = text.rindex("55/55")
    for message in ("foreign keys and updating the indexes", "ANALYZE users, posts", "Committing"):
        assert text.index(message) > bar_end, text
    quiet = io.StringIO()
    call_command("seed_demo", users=1, posts=1, verbosity=0, stdout=io.StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""
