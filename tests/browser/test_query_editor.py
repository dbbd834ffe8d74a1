"""The query editor in Chromium: type → run → results → export → history → re-open, cancel, and XSS."""

import pytest

from dbtools.models import QueryHistory
from tests.browser.conftest import screenshot
from tests.factories import PostFactory
from tests.query.conftest import query_role  # noqa: F401  (session fixture: the query roles on the test DB)

pytestmark = pytest.mark.browser


@pytest.fixture
def analyst(make_user):
    return make_user("analyst")


@pytest.fixture
def editor_page(login, analyst, live_server):
    page = login(analyst)
    page.dialogs, page.bad_responses = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    # A failed run is the run endpoint's JSON 4xx (shown in the page); anything else >= 400, or a 5xx, is a bug.
    page.on("response", lambda r: r.status >= 400 and "favicon" not in r.url
            and (r.status >= 500 or "/admin/dbtools/query/run/" not in r.url) and page.bad_responses.append(r.url))
    page.goto(f"{live_server.url}/admin/dbtools/query/")
    page.wait_for_selector(".cm-editor")
    return page


def script_errors(page):
    return [e for e in page.console_errors if not e.startswith("Failed to load resource")]


def set_sql(page, text):
    page.evaluate("text => window.pgdeckQueryEditor.setValue(text)", text)


def test_type_run_results_export_history_reopen(editor_page, live_server, tmp_path):
    page = editor_page
    posts = PostFactory.create_batch(3)
    page.reload()
    page.wait_for_selector(".cm-editor")
    page.click(".cm-content")
    page.keyboard.type("SELECT id, title, NULL AS nothing FROM ")
    page.click("details.schema summary >> nth=0")  # collapse/expand the public schema…
    page.click("details.schema summary >> nth=0")
    page.click("button.insert-name[data-insert='posts']")  # …and insert a table name from the browser
    page.keyboard.type(" ORDER BY id")
    posts_table = page.locator("details.table", has=page.locator("button[data-insert='posts']"))
    posts_table.evaluate("details => { details.open = true; }")
    assert "title character varying(200)" in posts_table.locator("ul.columns").inner_text()  # columns with their types
    screenshot(page, "query-editor")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#query-result")
    assert page.inner_text(".result-summary").startswith("3 rows")
    cells = page.locator("#result_list tbody tr").first.locator("td")
    assert cells.nth(1).inner_text() == posts[0].title
    assert cells.nth(2).inner_text() == "NULL" and "null" in cells.nth(2).get_attribute("class")
    assert "int4" in page.inner_text("#result_list thead")
    screenshot(page, "query-results")

    with page.expect_download() as download_info:
        page.click("button[value=export_csv]")
    download = download_info.value
    assert download.suggested_filename.startswith("query-") and download.suggested_filename.endswith(".csv")
    target = tmp_path / "export.csv"
    download.save_as(target)
    assert target.read_text().splitlines() == ["id,title,nothing"] + [f"{p.id},{p.title}," for p in posts]

    page.goto(f"{live_server.url}/admin/dbtools/queryhistory/")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 2  # the run and the export
    screenshot(page, "query-history")
    page.locator("#result_list tbody tr", has_text="success · read").first.locator("text=Open in editor").click()
    page.wait_for_selector(".cm-editor")
    reopened = page.evaluate("window.pgdeckQueryEditor.getValue()")
    assert reopened == "SELECT id, title, NULL AS nothing FROM posts ORDER BY id"
    assert script_errors(page) == [] and page.bad_responses == []


def test_error_is_marked_in_the_editor_and_plan_is_a_tree(editor_page):
    page = editor_page
    set_sql(page, "SELECT id\nFROM posts\nWHERE nope = 1")
    page.click("#run-button")
    page.wait_for_selector("#query-error")
    assert 'column "nope" does not exist' in page.inner_text("#query-error")
    page.wait_for_selector(".cm-pgdeck-error")
    assert page.inner_text(".cm-pgdeck-error") == "nope"
    screenshot(page, "query-error")
    set_sql(page, "SELECT p.title, u.username FROM posts p JOIN users u ON u.id = p.user_id ORDER BY 1")
    page.click("button[value=explain_analyze]")
    page.wait_for_selector("table.plan")
    assert page.locator("table.plan tr.hot").count() >= 1
    assert page.locator("table.plan td.depth-1").count() >= 1
    screenshot(page, "query-explain")
    assert script_errors(page) == [] and page.bad_responses == []


def test_cancel_stops_a_running_query(editor_page):
    page = editor_page
    set_sql(page, "SELECT pg_sleep(30)")
    box = page.locator("#cancel-button").bounding_box()
    page.click("#run-button", no_wait_after=True)
    page.wait_for_timeout(700)  # let the run reach the server
    # A raw mouse click, like a user's: Playwright's locator actions would wait for the pending form POST.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#query-error", timeout=5000)
    assert "cancelled" in page.inner_text("#query-error")
    assert QueryHistory.objects.get(query="SELECT pg_sleep(30)").status == "cancelled"


def test_script_in_a_cell_an_error_and_a_plan_renders_as_text(editor_page):
    page = editor_page
    payload = "<script>alert('cell')</script><img src=x onerror=alert('img')>"
    set_sql(page, f"SELECT $${payload}$$ AS evil")
    page.click("#run-button")
    page.wait_for_selector("#query-result")
    assert page.inner_text("#result_list tbody td") == payload
    assert page.locator("#result_list img, #result_list tbody script").count() == 0

    set_sql(page, "SELECT * FROM \"<script>alert('error')</script>\"")
    page.click("#run-button")
    page.wait_for_selector("#query-error")
    assert "<script>alert('error')</script>" in page.inner_text("#query-error")

    set_sql(page, "SELECT * FROM posts WHERE title = '<script>alert(1)</script><img src=x onerror=alert(2)>'")
    page.click("button[value=explain]")
    page.wait_for_selector("table.plan")
    assert "<script>alert(1)</script>" in page.inner_text("table.plan")
    assert page.locator("table.plan img, table.plan script").count() == 0
    screenshot(page, "query-xss")
    assert page.dialogs == []
    assert script_errors(page) == [] and page.bad_responses == []


def test_save_with_parameter_then_run_from_saved(editor_page, live_server):
    page = editor_page
    posts = PostFactory.create_batch(2)
    set_sql(page, "SELECT id, title FROM posts WHERE id = :post_id")
    page.click("details.save-query summary")
    page.fill("#id_save_name", "Post by id")
    page.check("#id_save_shared")
    page.click("button[value=save]")
    page.wait_for_selector("ul.messagelist")
    page.fill("input[name=param_post_id]", str(posts[1].id))
    screenshot(page, "query-saved-parameters")
    page.click("#run-button")
    page.wait_for_selector("#query-result")
    assert page.inner_text("#result_list tbody td >> nth=1") == posts[1].title
    page.goto(f"{live_server.url}/admin/dbtools/savedquery/")
    page.wait_for_selector("#result_list")
    row = page.locator("#result_list tbody tr", has_text="Post by id")
    assert row.locator("td.field-run_count").inner_text() == "1"
    screenshot(page, "query-saved-list")
    assert script_errors(page) == [] and page.bad_responses == []


def test_write_mode_needs_toggle_and_confirmation(login, make_user, live_server):
    page = login(make_user("admin", username="boss"))
    post = PostFactory()
    page.goto(f"{live_server.url}/admin/dbtools/query/")
    page.wait_for_selector(".cm-editor")
    assert not page.is_visible("#id_confirm_write")  # shown only once write mode is ticked
    set_sql(page, f"UPDATE posts SET title = 'edited' WHERE id = {post.id}")
    page.check("#id_write_mode")
    page.click("#run-button")
    page.wait_for_selector(".errorlist")
    post.refresh_from_db()
    assert post.title != "edited"
    page.check("#id_write_mode")
    page.check("#id_confirm_write")
    screenshot(page, "query-write-mode")
    page.click("#run-button")
    page.wait_for_selector("#query-result")
    assert "committed" in page.inner_text(".result-summary")
    post.refresh_from_db()
    assert post.title == "edited"
