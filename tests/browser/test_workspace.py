"""The query workspace in Chromium: tabs and drafts that survive a reload, run what is meant, per-statement
panels, big results, and the 390 px layout."""

import pytest

from dbtools.models import EditorTab, QueryHistory
from tests.browser.conftest import screenshot
from tests.browser.test_query_editor import script_errors, set_sql
from tests.factories import PostFactory
from tests.query.conftest import query_role  # noqa: F401  (session fixture: the query roles on the test DB)

pytestmark = pytest.mark.browser


@pytest.fixture
def analyst(make_user):
    return make_user("analyst")


def open_workspace(page, url):
    page.goto(f"{url}/admin/dbtools/query/")
    page.wait_for_selector(".cm-editor")
    page.wait_for_selector(".ws-tab.active")
    return page


def wait_saved(page):
    page.wait_for_function("() => !document.querySelector('.ws-unsaved')")


def active_sql(page):
    return page.evaluate("window.pgdeckQueryEditor.getValue()")


def select(page, start, end):
    page.evaluate("([a, b]) => { const v = window.pgdeckQueryEditor.view; "
                  "v.dispatch({selection: {anchor: a, head: b}}); v.focus(); }", [start, end])


def test_three_tabs_survive_a_reload_rename_close_reopen(login, analyst, live_server):
    page = open_workspace(login(analyst), live_server.url)
    texts = ["SELECT 1 AS first", "SELECT 2 AS second", "SELECT 3 AS third"]
    page.click(".cm-content")
    page.keyboard.type(texts[0])
    for text in texts[1:]:
        count = page.locator(".ws-tab").count()
        page.click("#tab-new")
        page.wait_for_function(f"() => document.querySelectorAll('.ws-tab').length === {count + 1}")
        assert active_sql(page) == ""
        page.click(".cm-content")
        page.keyboard.type(text)
    wait_saved(page)
    page.locator(".ws-tab-name").nth(1).dblclick()
    page.fill(".ws-tab-rename", "Second one")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ws-tab-name:text-is('Second one')")
    page.wait_for_function("() => !document.querySelector('.ws-tab-rename')")

    page.reload()
    page.wait_for_selector(".ws-tab.active")
    names = page.locator(".ws-tab-name").all_inner_texts()
    assert names == ["Query 1", "Second one", "Query 3"]
    assert active_sql(page) == texts[1]  # the tab that was active (the renamed one)
    for index, text in enumerate(texts):
        page.locator(".ws-tab-name").nth(index).click()
        assert active_sql(page) == text
    screenshot(page, "workspace-tabs")

    page.click(".ws-tab[data-id] >> nth=1 >> .ws-tab-close")
    page.wait_for_function("() => document.querySelectorAll('.ws-tab').length === 2")
    page.click("#closed-tabs summary")
    page.click(".ws-reopen:text-is('Second one')")
    page.wait_for_function("() => document.querySelectorAll('.ws-tab').length === 3")
    assert active_sql(page) == texts[1]
    assert page.locator(".ws-tab-name").all_inner_texts() == ["Query 1", "Query 3", "Second one"]
    assert EditorTab.objects.filter(owner=analyst, closed_at__isnull=True).count() == 3
    assert script_errors(page) == []


def test_ctrl_enter_runs_the_selection_or_the_statement_under_the_cursor(login, analyst, live_server):
    PostFactory.create_batch(2)
    page = open_workspace(login(analyst), live_server.url)
    sql = "SELECT 1 AS a;\nSELECT count(*) AS posts FROM posts;\nSELECT 'x' AS c"
    set_sql(page, sql)
    start = sql.index("SELECT 'x'")
    select(page, start, len(sql))
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#query-result")
    assert page.locator("#result_list thead th").first.text_content().startswith("c")
    assert QueryHistory.objects.get().query == "SELECT 'x' AS c"  # only the selection went to the server

    select(page, sql.index("count"), sql.index("count"))  # a cursor, no selection
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelector('#result_list th').textContent.startsWith('posts')")
    assert page.inner_text("#result_list tbody td") == "2"
    assert QueryHistory.objects.order_by("-pk").first().query == "SELECT count(*) AS posts FROM posts"

    page.keyboard.press("Shift+Control+Enter")  # the whole script: one panel per statement
    page.wait_for_selector(".statement-tab >> nth=2")
    assert page.locator(".statement-tab").all_inner_texts() == [
        "1 · SELECT · 1 row", "2 · SELECT · 1 row", "3 · SELECT · 1 row"]
    assert page.locator(".statement-tab[aria-selected=true]").inner_text().startswith("3")
    page.click(".statement-tab >> nth=0")
    assert page.locator("#result_list thead th").first.text_content().startswith("a")
    assert page.inner_text(".result-summary").startswith("1 row")
    screenshot(page, "workspace-statements")

    set_sql(page, "SELECT 1;\nSELECT nope")
    select(page, 21, 21)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#query-error")
    assert "in statement 1" in page.inner_text("#query-error")  # the only statement sent
    page.wait_for_selector(".cm-pgdeck-error")
    assert page.inner_text(".cm-pgdeck-error") == "nope"  # marked in the whole editor, not just the statement
    assert script_errors(page) == []


def test_last_result_comes_back_with_its_tab(login, analyst, live_server):
    page = open_workspace(login(analyst), live_server.url)
    set_sql(page, "SELECT 'kept' AS word")
    page.click("#run-button")
    page.wait_for_selector("#query-result")
    page.reload()
    page.wait_for_selector("#query-result")
    assert page.inner_text("#result_list tbody td") == "kept"


def test_big_scripts_wide_results_and_oversized_drafts(login, analyst, live_server, settings):
    page = open_workspace(login(analyst), live_server.url)
    set_sql(page, ";\n".join(f"SELECT {i} AS n" for i in range(500)))
    page.click("#run-button")
    page.wait_for_selector("#statement-select", timeout=60000)
    assert "500 statements ran" in page.inner_text(".run-summary")
    page.select_option("#statement-select", "0")
    assert page.inner_text("#result_list tbody td") == "0"

    set_sql(page, "SELECT " + ", ".join(f"{i} AS c{i}" for i in range(1600)) + ", repeat('v', 5000) AS long, "
                  "'\\x00ff'::bytea AS bin")
    page.click("#run-button")
    page.wait_for_selector(".wide-note")
    assert "1,602 columns: showing the first 200" in page.inner_text(".wide-note")
    assert page.locator("#result_list thead th").count() == 200
    screenshot(page, "workspace-wide")

    set_sql(page, "SELECT repeat('v', 5000) AS long, '\\x00ff'::bytea AS bin")
    page.click("#run-button")
    page.wait_for_function("() => document.querySelectorAll('#result_list th').length === 2")
    assert page.locator("#result_list td.cut").count() == 1
    assert page.inner_text("#result_list tbody td >> nth=1") == "\\x00ff"

    page.click("#tab-new")
    page.wait_for_function("() => document.querySelectorAll('.ws-tab').length === 2")
    set_sql(page, "SELECT 'small'")
    wait_saved(page)
    settings.QUERY_MAX_SQL_BYTES = 2000
    page.locator(".ws-tab-name").first.click()
    set_sql(page, "SELECT '" + "x" * 3000 + "'")
    page.wait_for_selector(".ws-tab.save-error")
    assert "Not saved" in page.inner_text("#workspace-status")
    assert "2,000" in page.inner_text("#workspace-status")
    screenshot(page, "workspace-draft-too-large")
    tabs = list(EditorTab.objects.filter(owner=analyst).order_by("position").values_list("sql", flat=True))
    assert tabs[1] == "SELECT 'small'" and "x" * 3000 not in tabs[0]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_390px_layout_collapses_the_schema_and_lists_shortcuts(browser, login, analyst, live_server, scheme):
    page = login(analyst)
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme=scheme)
    open_workspace(page, live_server.url)
    assert page.evaluate("document.getElementById('schema-browser').open") is False
    screenshot(page, f"workspace-390-{scheme}-start")
    editor_box = page.locator(".cm-editor").bounding_box()
    assert editor_box["width"] >= 300  # not squeezed beside the schema browser
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    set_sql(page, "SELECT 1 AS one; SELECT 2 AS two")
    page.click(".cm-content")
    page.keyboard.press("Shift+Control+Enter")
    page.wait_for_selector(".statement-tab >> nth=1")
    page.click("#shortcut-button")
    page.wait_for_selector("#shortcut-help:popover-open")
    assert "Run the selection, or else the statement under the cursor" in page.inner_text("#shortcut-help")
    screenshot(page, f"workspace-390-{scheme}")
    page.keyboard.press("Escape")
    page.click("#schema-browser summary")
    assert page.evaluate("document.getElementById('schema-browser').open") is True
    assert page.locator("#workspace-bar a", has_text="History").is_visible()
    assert page.locator("#workspace-bar a", has_text="Saved queries").is_visible()
    assert script_errors(page) == []
