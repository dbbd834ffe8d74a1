"""Issue 18, admin search on large tables (blog/selectors.py): the three paths a search can take give the same
rows as a plain case-insensitive substring filter, and the trigram path counts without COUNT or EXPLAIN."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blog import selectors
from blog.models import BlogUser, Post
from tests.factories import BlogUserFactory, PostFactory

pytestmark = pytest.mark.django_db


def listed(response):
    return {obj.pk for obj in response.context["cl"].result_list}


def search(term, model=Post, fields=("title",)):
    return selectors.substring_search(model.objects.all(), fields, term, page_size=50)


def test_a_term_missing_from_the_newest_rows_takes_the_index_path_and_pages_with_an_exact_count(
        client_for, monkeypatch):
    monkeypatch.setattr(selectors, "NEWEST_PROBE", 10)
    wanted = {post.pk for post in PostFactory.create_batch(60, title="Old vacuum notes")}
    PostFactory.create_batch(20, title="Newer, about WAL")
    assert search("vacuum").path == "ids"
    client = client_for("admin")
    with CaptureQueriesContext(connection) as ctx:
        first = client.get("/admin/blog/post/", {"q": "VACUUM"})
    assert first.context["cl"].result_count == 60 and "60 results" in first.content.decode()
    statements = [q["sql"].upper() for q in ctx.captured_queries]
    assert not [s for s in statements if s.startswith("EXPLAIN") or '"__COUNT"' in s]
    second = client.get("/admin/blog/post/", {"q": "VACUUM", "p": "2"})
    assert len(listed(first)) == 50 and listed(first) | listed(second) == wanted
    assert max(listed(second)) < min(listed(first))  # newest first, across pages


def test_a_term_dense_among_the_newest_rows_filters_as_usual(monkeypatch):
    monkeypatch.setattr(selectors, "NEWEST_PROBE", 100)
    wanted = {post.pk for post in PostFactory.create_batch(55, title="vacuum tuning")}
    found = search("Vacuum")
    assert found.path == "newest" and set(found.queryset.values_list("pk", flat=True)) == wanted


def test_more_ids_than_the_cap_fall_back_to_the_plain_filter(client_for, monkeypatch):
    monkeypatch.setattr(selectors, "NEWEST_PROBE", 5)
    monkeypatch.setattr(selectors, "SEARCH_IDS_MAX", 7)
    wanted = {post.pk for post in PostFactory.create_batch(12, title="checkpoint spikes")}
    PostFactory.create_batch(6, title="other")
    assert search("checkpoint").path == "filter"
    response = client_for("admin").get("/admin/blog/post/", {"q": "POINT SP"})
    assert listed(response) == wanted and response.context["cl"].result_count == 12


@pytest.mark.parametrize("term", ["Post 777 about vacuum", "post 777 ABOUT VACUUM", "st 777 about vac"])
def test_a_several_word_term_goes_to_the_index_by_its_rarest_word_and_is_rechecked_whole(monkeypatch, term):
    monkeypatch.setattr(selectors, "NEWEST_PROBE", 3)
    wanted = PostFactory(title="Post 777 about vacuum")
    # Each shares the rare word or most of the term, never the whole of it.
    for title in ("Post 7777 about vacuum", "Post 777 about wal", "Post 1777about vacuum", "777 vacuum about"):
        PostFactory(title=title)
    PostFactory.create_batch(5, title="Post 1 about vacuum")  # the newest rows: "post", "about" are common there
    found = search(term)
    assert found.path == "ids" and found.count == 1
    assert list(found.queryset.values_list("pk", flat=True)) == [wanted.pk]


def test_user_search_through_the_index_path_matches_username_or_email(monkeypatch):
    monkeypatch.setattr(selectors, "NEWEST_PROBE", 2)
    ada = BlogUserFactory(username="ada_lovelace", email="countess@analytical.example")
    grace = BlogUserFactory(username="grace", email="grace@ANALYTICAL.example")
    BlogUserFactory.create_batch(3)
    found = search("analytical", BlogUser, ("username", "email"))
    assert found.path == "ids" and set(found.queryset.values_list("pk", flat=True)) == {ada.pk, grace.pk}
    assert set(search("LOVEL", BlogUser, ("username", "email")).queryset) == {ada}


def test_a_number_finds_its_id_on_every_path(monkeypatch):
    monkeypatch.setattr(selectors, "NEWEST_PROBE", 1)
    target = PostFactory(title="no digits here")
    PostFactory.create_batch(3, title="x")
    found = search(str(target.pk))
    assert target.pk in set(found.queryset.values_list("pk", flat=True))


def test_in_array_takes_a_list_or_the_servers_text_form(db):
    first, second, _other = PostFactory.create_batch(3)
    assert set(Post.objects.filter(pk__in_array=[first.pk, second.pk])) == {first, second}
    count, ids = selectors.matching_ids(Post.objects.filter(pk__in=[first.pk, second.pk]), 10)
    assert count == 2 and set(Post.objects.filter(pk__in_array=ids)) == {first, second}
    assert selectors.matching_ids(Post.objects.none().filter(title="nothing"), 10)[0] == 0
    assert not Post.objects.filter(pk__in_array=[])
