"""The editor's widgets in Chromium: the result grid (Tabulator) at 100,000 rows, sort, copy as TSV, NULL and long
values; the graphical plan (pev2) and the comparison of two plans; Format SQL; charts saved with a saved query;
the dark theme following the admin's toggle. Light and dark, 1280 px and 390 px, with screenshots."""

import pytest

from dbtools.models import SavedQuery
from dbtools.query.explain import explain_query
from tests.browser.conftest import screenshot
from tests.factories import PostFactory
from tests.query.conftest import query_role  # noqa: F401  (session fixture: the query roles on the test DB)

pytestmark = pytest.mark.browser

GRID_SQL = ("SELECT g AS id, 'name ' || g AS name, CASE WHEN g % 5 = 0 THEN NULL ELSE g * 1.5 END AS v, "
            "CASE WHEN g = 2 THEN repeat('long value ', 60) || 'END' ELSE 'x' END AS note, "
            "pg_sleep(0) AS nap FROM generate_series(1, 40) g")

BIG_RESULT_JS = """(count) => {
  const rows = [];
  for (let i = 1; i <= count; i++) rows.push([i, 'row ' + i, i % 7 ? i * 2 : null]);
  const host = document.createElement('div');
  host.id = 'big-grid';
  document.querySelector('.query-main').prepend(host);
  window.bigGrid = PgdeckGrid.mount(host, {columns: [{name: 'id', type: 'int4'}, {name: 'label', type: 'text'},
    {name: 'twice', type: 'int4'}], rows, truncated: true, rows_at_least: count + 1}, {height: '400px'});
  return true;
}"""


@pytest.fixture
def analyst(make_user):
    return make_user("analyst")


@pytest.fixture
def editor(login, analyst, live_server):
    page = login(analyst)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/admin/dbtools/query/")
    page.wait_for_selector(".cm-editor")
    yield page
    errors = [e for e in page.console_errors if not e.startswith("Failed to load resource")]
    assert errors == []  # no script error in any widget


def until(page, expression, timeout_ms=20_000):
    """Poll a JS expression from Python until it is truthy: wait_for_function evaluates a string, which the CSP
    (no unsafe-eval) refuses."""
    waited = 0
    while not page.evaluate(f"() => {expression}"):
        assert waited < timeout_ms, f"still false: {expression}"
        page.wait_for_timeout(100)
        waited += 100


def set_sql(page, text):
    page.evaluate("text => window.pgdeckQueryEditor.setValue(text)", text)


def run(page, sql, button="#run-button"):
    set_sql(page, sql)
    page.click(button)
    page.wait_for_load_state()


def header(page, name):
    return page.locator("#query-grid .tabulator-col", has=page.locator(".pgdeck-col-name", has_text=name))


def first_column_values(page, grid="#query-grid", n=5):
    cells = page.locator(f"{grid} .tabulator-row .tabulator-cell[tabulator-field='0']")
    return [cells.nth(i).inner_text() for i in range(n)]


def test_grid_shows_types_null_long_values_sorts_and_copies_tsv(editor):
    page = editor
    run(page, GRID_SQL)
    page.wait_for_selector("#query-grid .tabulator-row")
    assert not page.is_visible("#query-result .results-scroll")  # the plain table is the no-JS fallback
    assert page.inner_text("#query-grid .pgdeck-grid-summary") == "40 rows"
    assert header(page, "nap").locator(".pgdeck-col-type").inner_text() == "void"
    assert header(page, "v").locator(".pgdeck-col-type").inner_text() == "numeric"
    row5 = page.locator("#query-grid .tabulator-row").nth(4)
    assert row5.locator(".pgdeck-null").inner_text() == "NULL"
    page.click("#query-grid .pgdeck-expand")
    assert page.inner_text("dialog.pgdeck-grid-dialog pre").endswith("long value END")
    screenshot(page, "query-grid-long-value")
    page.click("dialog.pgdeck-grid-dialog .pgdeck-grid-close")

    header(page, "id").locator(".tabulator-col-title").click()  # ascending (numeric, not text order)
    header(page, "id").locator(".tabulator-col-title").click()  # descending
    assert first_column_values(page) == ["40", "39", "38", "37", "36"]
    header(page, "v").locator(".tabulator-col-title").click()
    assert first_column_values(page, n=3) == ["1", "2", "3"]  # numeric: 1.5, 3.0, 4.5

    cells = page.locator("#query-grid .tabulator-row").nth(0).locator(".tabulator-cell[tabulator-field]")
    cells.nth(0).click()
    page.locator("#query-grid .tabulator-row").nth(2).locator(".tabulator-cell[tabulator-field='2']").click(
        modifiers=["Shift"])
    page.keyboard.press("Control+c")
    assert page.evaluate("navigator.clipboard.readText()") == "1\tname 1\t1.5\n2\tname 2\t3.0\n3\tname 3\t4.5"
    page.evaluate("navigator.clipboard.writeText('')")
    page.click("#query-grid button.pgdeck-copy")
    until(page, "document.querySelector('#query-grid .pgdeck-grid-meta').textContent.includes('copied')")
    assert page.evaluate("navigator.clipboard.readText()").split("\n")[1] == "2\tname 2\t3.0"
    screenshot(page, "query-grid")


def test_capped_result_wording_and_export_all(editor, settings):
    settings.QUERY_EDITOR_MAX_ROWS = 100
    page = editor
    run(page, "SELECT g FROM generate_series(1, 2001) g")
    page.wait_for_selector("#query-grid .tabulator-row")
    assert page.inner_text("#query-grid .pgdeck-grid-summary") == "first 100 of at least 101 rows"
    with page.expect_download() as download:
        page.click("#query-grid a.pgdeck-export-all")
    assert download.value.suggested_filename.endswith(".csv")


def test_grid_at_100000_rows_scrolls_and_sorts_with_few_dom_rows(editor):
    page = editor
    assert page.evaluate(BIG_RESULT_JS, 100_000)
    page.wait_for_selector("#big-grid .tabulator-row")
    assert page.inner_text("#big-grid .pgdeck-grid-summary") == "first 100,000 of at least 100,001 rows"
    assert page.locator("#big-grid .tabulator-row").count() < 100  # virtual: only what is on screen is built
    until(page, "window.bigGrid.complete")  # the rows after the first 500 arrive in chunks, in idle time
    assert page.evaluate("window.bigGrid.table.getDataCount()") == 100_000
    holder = page.locator("#big-grid .tabulator-tableholder")
    holder.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    until(page, "[...document.querySelectorAll('#big-grid .tabulator-cell[tabulator-field=\"0\"]')]"
                           ".some(c => c.textContent === '100000')")
    assert page.locator("#big-grid .tabulator-row").count() < 100
    page.locator("#big-grid .tabulator-col", has_text="twice").locator(".tabulator-col-title").click()
    page.locator("#big-grid .tabulator-col", has_text="twice").locator(".tabulator-col-title").click()
    holder.evaluate("el => { el.scrollTop = 0; }")
    until(page, "document.querySelector('#big-grid .tabulator-row .tabulator-cell[tabulator-field=\"2\"]')"
                           ".textContent === '200000'")
    # Garbage of the sorts is not what the grid keeps: collect it (DevTools protocol) before reading the heap.
    page.context.new_cdp_session(page).send("HeapProfiler.collectGarbage")
    memory = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
    assert memory < 150 * 1024 * 1024
    screenshot(page, "query-grid-100000-rows")


def test_plan_renders_next_to_the_table_and_two_plans_compare(editor, analyst, live_server):
    page = editor
    PostFactory.create_batch(3)
    run(page, "SELECT p.title, u.username FROM posts p JOIN users u ON u.id = p.user_id WHERE p.id > 1",
        button="button[value=explain_analyze]")
    page.wait_for_selector("table.plan")
    graph = page.locator("#query-plan-graph .plan-node")
    graph.first.wait_for()
    assert graph.count() >= 2 and "Join" in page.locator("#query-plan-graph .plan-node").first.inner_text()
    screenshot(page, "query-plan-graph")
    other = explain_query(user=analyst, sql_text="SELECT * FROM posts ORDER BY title")
    page.click("text=compare with another plan")
    page.select_option("select[name=b]", str(other.query_id))
    page.click(".plan-compare-form button[type=submit]")
    page.wait_for_load_state()
    screenshot(page, "query-plan-compare")
    page.locator("#plan-compare .plan-node").first.wait_for()
    assert page.locator("#plan-compare .pgdeck-plan-pane").count() == 2
    diff = page.inner_text("#plan-compare .pgdeck-plan-diff")
    assert "Total Cost" in diff and f"#{other.query_id}" in diff and "Sort" in diff
    screenshot(page, "query-plan-compare")


def test_format_sql_button_shortcut_and_error(editor):
    page = editor
    set_sql(page, "select id,title from posts where id>1 order by id")
    page.click("#format-button")
    until(page, "window.pgdeckQueryEditor.getValue().startsWith('SELECT id\\n')")
    assert "WHERE id > 1" in page.evaluate("window.pgdeckQueryEditor.getValue()")
    set_sql(page, "select 1 as one")
    page.click(".cm-content")
    page.keyboard.press("Shift+Alt+F")
    until(page, "window.pgdeckQueryEditor.getValue() === 'SELECT 1 AS one\\n'")
    set_sql(page, "select from where")
    page.click("#format-button")
    until(page, "document.getElementById('run-status').textContent.includes('Cannot format')")
    assert page.evaluate("window.pgdeckQueryEditor.getValue()") == "select from where"  # nothing lost
    screenshot(page, "query-format-error")


def test_chart_saved_with_a_saved_query_and_shown_on_its_page(editor, analyst, live_server):
    page = editor
    saved = SavedQuery.objects.create(owner=analyst, name="squares", sql="SELECT g AS x, g * g AS y, g * 3 AS z "
                                      "FROM generate_series(1, 12) g ORDER BY g")
    page.goto(f"{live_server.url}/admin/dbtools/query/?saved={saved.pk}")
    page.wait_for_selector(".cm-editor")
    page.click("#run-button")
    page.wait_for_selector("#query-grid .tabulator-row")
    page.click("#query-chart-box summary")
    page.wait_for_selector("#query-chart canvas")
    page.select_option("#query-chart select[name=chart_type]", "line")
    page.select_option("#query-chart select[name=chart_y]", ["y", "z"])
    until(page, "document.getElementById('query-chart-status').textContent.includes('saved')")
    # The type's own save may say "saved" before the columns' save lands: wait for the row itself.
    expected = {"type": "line", "x": "x", "y": ["y", "z"]}
    for _ in range(100):
        saved.refresh_from_db()
        if saved.chart == expected:
            break
        page.wait_for_timeout(100)
    assert saved.chart == expected
    screenshot(page, "query-chart-editor")

    page.goto(f"{live_server.url}/admin/dbtools/savedquery/{saved.pk}/change/")
    page.wait_for_selector("#saved-chart canvas")  # a saved chart runs and draws by itself
    datasets = page.evaluate("document.getElementById('saved-chart').pgdeckChart.chart.data.datasets"
                             ".map(d => [d.label, d.data.length, d.data[11]])")
    assert datasets == [["y", 12, 144], ["z", 12, 36]]
    assert page.evaluate("document.getElementById('saved-chart').pgdeckChart.chart.config.type") == "line"
    page.select_option("#saved-chart select[name=chart_type]", "scatter")
    until(page, "document.getElementById('saved-chart-status').textContent.includes('saved')")
    saved.refresh_from_db()
    assert saved.chart["type"] == "scatter"
    screenshot(page, "saved-query-chart")


@pytest.mark.parametrize("width", [1280, 390])
def test_dark_theme_follows_the_admin_toggle(editor, width):
    page = editor
    page.set_viewport_size({"width": width, "height": 900})
    run(page, GRID_SQL)
    page.wait_for_selector("#query-grid .tabulator-row")
    background = "getComputedStyle(document.querySelector('.cm-editor')).backgroundColor"
    light = page.evaluate(background)
    page.evaluate("localStorage.setItem('theme', 'dark'); document.documentElement.dataset.theme = 'dark'")
    until(page, f"{background} !== {light!r}")
    assert page.evaluate(background) == "rgb(40, 44, 52)"  # one-dark
    identifiers = page.evaluate("getComputedStyle(document.querySelector('.cm-content')).color")
    assert identifiers != "rgb(238, 238, 238)" or page.evaluate(background) != "rgb(255, 255, 255)"
    grid_bg = page.evaluate("getComputedStyle(document.querySelector('#query-grid .tabulator-row')).backgroundColor")
    assert grid_bg != "rgb(255, 255, 255)"
    stop = "window.PgdeckEditorTheme.apply(window.pgdeckQueryEditor.view)"  # for views made without create()
    assert page.evaluate(f"typeof {stop}") == "function"
    screenshot(page, f"query-dark-{width}")
    page.evaluate("document.documentElement.dataset.theme = 'light'")
    until(page, f"{background} === {light!r}")
    page.evaluate("document.documentElement.dataset.theme = 'auto'")
    page.emulate_media(color_scheme="dark")
    until(page, f"{background} === 'rgb(40, 44, 52)'")
    run(page, "SELECT * FROM pg_class WHERE relname = 'pg_type'", button="button[value=explain]")
    page.locator("#query-plan-graph .plan-node").first.wait_for()
    theme = page.evaluate("document.getElementById('query-plan-graph').shadowRoot"
                          ".querySelector('.pgdeck-plan-root').getAttribute('data-bs-theme')")
    assert theme == "dark"
    screenshot(page, f"query-plan-dark-{width}")
    page.evaluate("localStorage.removeItem('theme')")
