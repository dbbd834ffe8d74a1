"""The fleet page's rows as HTML (monitoring/fleet_rows.py joins the figure cells and the alerts in Python): the
same markup the template loops wrote, every value escaped. No target is probed: the rows are given."""

import pytest

from dbtools.monitoring import selectors

pytestmark = pytest.mark.django_db
URL = "/admin/dbtools/monitoring/fleet/"
ROW = {
    "target": "t1", "environment": "dev", "status": "up", "error": "", "probe_ms": 1.5, "checked_at": None,
    "version": "18.1 <beta> (Debian)", "in_recovery": True, "database": "app", "connections": 5,
    "max_connections": 100, "connections_percent": 5.0, "cache_hit_ratio": 0.9912, "long_running": 0, "blocked": 1,
    "replication_lag_seconds": None, "replicas": 0, "database_bytes": 12345678, "last_backup_at": None,
    "last_backup_age_seconds": None, "alerts_checked_at": "2026-01-01T00:00:00+00:00", "duplicate_of": None,
    "alerts": [{"key": "k", "status": "amber", "title": "T<b>&", "summary": "s\"<i>'"},
               {"key": "j", "status": "red", "title": "J", "summary": ""}],
}


def page(client_for, monkeypatch, *rows):
    monkeypatch.setattr(selectors, "fleet_overview", lambda user, allowed=None: [dict(row) for row in rows])
    response = client_for("admin").get(URL)
    assert response.status_code == 200
    return response.content.decode()


def test_figure_cells_and_alerts_same_markup_every_value_escaped(client_for, monkeypatch):
    html = page(client_for, monkeypatch, ROW)
    assert ("<td>18.1 (standby)</td><td>5 / 100 (5.0%)</td><td>99.1%</td><td>0</td><td>1</td><td>—</td>"
            "<td>11.8\xa0MB</td><td>none</td>") in html
    assert ('<td class="fleet-alerts"><div class="fleet-alert"><span class="status status-amber">amber</span> '
            'T&lt;b&gt;&amp;<div class="help">s&quot;&lt;i&gt;&#x27;</div></div>'
            '<div class="fleet-alert"><span class="status status-red">red</span> J<div class="help"></div></div>'
            "</td>") in html
    assert "<b>" not in html and "<i>" not in html


def test_a_row_without_alerts_says_why(client_for, monkeypatch):
    checked = {**ROW, "target": "checked", "alerts": []}
    unchecked = {**checked, "target": "unchecked", "alerts_checked_at": None}
    down = {**unchecked, "target": "down", "status": "down", "error": "refused <here>"}
    html = page(client_for, monkeypatch, checked, unchecked, down)
    assert '<td class="fleet-alerts">none</td>' in html
    assert '<td class="fleet-alerts">not checked yet</td>' in html
    assert '<td class="fleet-alerts">—</td>' in html
    assert '<div class="help fleet-error">refused &lt;here&gt;</div>' in html
