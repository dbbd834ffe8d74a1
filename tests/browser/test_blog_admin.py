"""A person's path through the blog admin in Chromium."""

import pytest
from django.db import connection

from blog.models import Post
from tests.browser.conftest import screenshot
from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_browse_add_post_and_delete_user_cascades(page, login, live_server, admin_user):
    doomed = PostFactory(title="Doomed post", user__username="leaving")
    PostFactory.create_batch(3)
    page.goto(f"{live_server.url}/admin/login/")
    screenshot(page, "login")
    login(admin_user)
    screenshot(page, "admin-index")

    page.goto(f"{live_server.url}/admin/blog/post/")
    assert page.locator("#result_list tbody tr").count() == 4
    assert page.get_by_role("link", name="Doomed post").is_visible()
    screenshot(page, "posts-changelist")

    page.goto(f"{live_server.url}/admin/blog/post/add/")
    page.fill("#id_title", "Written in the browser")
    page.fill("#id_content", "Body <script>alert(1)</script>")
    # The author field is Django's autocomplete (select2): search and pick like a person would.
    page.click(".field-user .select2-selection")
    page.fill(".select2-search__field", "leav")
    page.click(".select2-results__option:has-text('leaving')")
    screenshot(page, "post-add")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert Post.objects.filter(title="Written in the browser", user_id=doomed.user_id).exists()
    screenshot(page, "post-added")

    page.goto(f"{live_server.url}/admin/blog/post/")
    page.fill("#searchbar", "DOOMED")  # any case, any part of the title
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 1
    screenshot(page, "posts-search")

    page.goto(f"{live_server.url}/admin/blog/bloguser/{doomed.user_id}/delete/")
    assert "Posts: 2" in page.inner_text("#content")  # the cascade is named before it happens
    screenshot(page, "user-delete-confirm")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert not Post.objects.filter(user_id=doomed.user_id).exists()
    page.goto(f"{live_server.url}/admin/blog/post/")
    assert page.get_by_role("link", name="Doomed post").count() == 0
    assert page.locator("#result_list tbody tr").count() == 3
    screenshot(page, "posts-after-user-deleted")
    assert not page.console_errors


def test_an_estimated_count_reads_as_one(page, login, live_server, admin_user, settings):
    settings.ESTIMATED_COUNT_THRESHOLD = 1
    PostFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE posts")
        cursor.execute("UPDATE pg_class SET reltuples = 1001908 WHERE relname = 'posts'")
    login(admin_user)
    page.goto(f"{live_server.url}/admin/blog/post/")
    assert "≈ 1,001,908 posts" in page.inner_text(".paginator")
    assert "Show all" not in page.inner_text("#changelist-search")
    screenshot(page, "posts-estimated-count")


def test_search_through_the_trigram_index_pages_selects_and_keeps_the_search(page, login, live_server, admin_user,
                                                                              monkeypatch):
    from blog import selectors

    monkeypatch.setattr(selectors, "NEWEST_PROBE", 10)  # the matches are older than the 10 newest rows
    old = PostFactory.create_batch(60, title="Old vacuum notes", is_published=False)
    PostFactory.create_batch(20, title="Newer, about WAL")
    login(admin_user)
    page.goto(f"{live_server.url}/admin/blog/post/?q=VACUUM")
    assert "60 results" in page.inner_text("#changelist-search")
    assert page.locator("#result_list tbody tr").count() == 50
    page.locator("#result_list tbody tr").nth(0).locator("input.action-select").check()
    page.locator("#result_list tbody tr").nth(1).locator("input.action-select").check()
    assert "2 of 50 selected" in page.inner_text(".action-counter")
    screenshot(page, "posts-search-index-path")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")
    assert sorted(Post.objects.filter(is_published=True).values_list("pk", flat=True)) == [old[-2].pk, old[-1].pk]
    page.get_by_role("link", name="Old vacuum notes").first.click()  # the change page keeps the search…
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert page.input_value("#searchbar") == "VACUUM"  # …and comes back to it
    page.goto(f"{live_server.url}/admin/blog/post/?q=VACUUM&p=2")
    assert page.locator("#result_list tbody tr").count() == 10
    assert not page.console_errors
