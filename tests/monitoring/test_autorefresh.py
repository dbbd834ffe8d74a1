"""Activity and Locks refresh themselves (a static script, pausable); other pages and confirmations do not."""

import pytest


@pytest.mark.parametrize("screen, refreshes", [("activity/", True), ("locks/", True), ("", False),
                                                ("activity/cancel-long-running/", False)])
def test_activity_and_locks_load_the_auto_refresh_script(client_for, db, screen, refreshes):
    html = client_for("operator").get(f"/admin/dbtools/monitoring/{screen}").content.decode()
    assert ("dbtools/monitoring/autorefresh.js" in html) is refreshes and "<script>" not in html
