"""The query editor's target picker in Chromium: an analyst granted a second target picks it, runs
`SELECT current_database()` and sees that target's database; after a reload the tab still names it; an analyst
without the grant is not offered it. Screenshot: query-target-picker.png."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from psycopg.conninfo import conninfo_to_dict

from targets.models import Target, TargetGrant
from targets.seam import default_spec
from tests.browser.conftest import screenshot
from tests.browser.test_query_editor import script_errors, set_sql
from tests.query.conftest import query_role  # noqa: F401  (session fixture: the query roles on the test DB)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reports(scratch_db):
    """A second database of the embedded server, registered with the least-privilege query role's login (the
    pre-run check refuses a superuser credential), granted for `query` to the group "reporting"."""
    spec = default_spec()
    dbname = conninfo_to_dict(scratch_db)["dbname"]
    target = Target(name="reports", host=spec.host, port=int(spec.port or 5432), dbname=dbname,
                    user=settings.QUERY_ROLE, sslmode="disable", environment="staging")
    target.password = settings.QUERY_ROLE_PASSWORD
    target.save()
    group, _ = Group.objects.get_or_create(name="reporting")
    TargetGrant.objects.create(target=target, group=group, capability="query")
    return dbname, group


def open_editor(page, url):
    page.goto(f"{url}/admin/dbtools/query/")
    page.wait_for_selector(".cm-editor")
    page.wait_for_selector(".ws-tab.active")
    return page


def test_pick_a_target_run_reload_and_not_offered_without_grant(login, live_server, make_user, reports, browser):
    dbname, group = reports
    granted = make_user("analyst", username="granted")
    granted.groups.add(group)
    page = open_editor(login(granted), live_server.url)
    assert page.locator("#tab-target option").all_inner_texts() == ["default", "reports"]
    page.select_option("#tab-target", "reports")
    set_sql(page, "SELECT current_database()")
    page.click("#run-button")
    page.wait_for_selector("#query-result")
    assert page.inner_text("#result_list tbody td") == dbname
    badge = page.locator("#site-name .target-badge")  # the header names the picked target, not "default"
    assert badge.get_attribute("data-target") == "reports" and "target-badge--staging" in badge.get_attribute("class")
    screenshot(page, "query-target-picker")

    page.reload()
    page.wait_for_selector(".ws-tab.active")
    assert page.input_value("#tab-target") == "reports"
    assert page.locator("#site-name .target-badge").get_attribute("data-target") == "reports"
    assert "default" in page.inner_text("#schema-browser summary") and "job_runs" in page.inner_text("#schema-browser")
    page.click("#schema-other-link")  # the schema browser follows on request: reports' (empty) database
    page.wait_for_selector(".ws-tab.active")
    assert "of reports" in page.inner_text("#schema-browser summary")
    assert "job_runs" not in page.inner_text("#schema-browser") and page.is_hidden("#schema-other")
    assert page.input_value("#tab-target") == "reports"
    assert not script_errors(page)

    other = make_user("analyst", username="not-granted")
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        second = context.new_page()
        second.goto(f"{live_server.url}/admin/login/")
        second.fill("#id_username", other.username)
        from tests.conftest import PASSWORD

        second.fill("#id_password", PASSWORD)
        second.click("input[type=submit]")
        second.wait_for_selector("#site-name")
        open_editor(second, live_server.url)
        assert second.locator("#tab-target option").all_inner_texts() == ["default"]
    finally:
        context.close()
