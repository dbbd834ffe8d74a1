"""What one fleet row shows on the admin page (dbtools/templates/dbtools/monitoring/fleet.html): every text worked
out once per row here, the figure cells and the alerts joined into HTML here (each value escaped), so the template
prints a few values per row instead of looping over cells and alerts: the page's cost grows with the number of
targets, and a template loop costs microseconds per iteration (bench/fleet.py).

Escaping: html.escape, which is what django.utils.html.escape runs (same output: & < > " ' replaced) without its
lazy-string wrapper; every value here is a plain str (figures, check verdicts), never markup of ours."""

from html import escape

from django.template.defaultfilters import filesizeformat
from django.utils.safestring import mark_safe

COLOURS = {"up": "green", "slow": "amber", "down": "red"}
DASH = "—"
ALERT_HTML = ('<div class="fleet-alert"><span class="status status-{status}">{status}</span> {title}'
              '<div class="help">{summary}</div></div>')


def page_row(row):
    """`row` (fleet.row) with what the page shows: status colour, the note under it, the cells and the alerts."""
    cells = figure_cells(row)
    return {**row, "colour": COLOURS[row["status"]], "note": row["error"] or f"{row['probe_ms']} ms",
            "cells": cells, "cells_html": _cells_html(cells), "alerts_html": _alerts_html(row)}


def figure_cells(row):
    """The figure cells of one fleet row as text."""
    def shown(value, text=None):
        return DASH if value is None else (text if text is not None else str(value))

    version = (row["version"] or "").split(" ")[0] + (" (standby)" if row["in_recovery"] else "")
    lag = row["replication_lag_seconds"]
    return [version or DASH,
            shown(row["connections"],
                  f"{row['connections']} / {row['max_connections']} ({row['connections_percent']}%)"),
            shown(row["cache_hit_ratio"], f"{100 * (row['cache_hit_ratio'] or 0):.1f}%"),
            shown(row["long_running"]), shown(row["blocked"]),
            f"{lag} s" if lag is not None else ("0 s" if row["replicas"] else DASH),
            shown(row["database_bytes"], filesizeformat(row["database_bytes"])),
            f"{_age(row['last_backup_age_seconds'])} ago" if row["last_backup_at"] else "none"]


def _cells_html(cells):
    return mark_safe("".join(f"<td>{escape(cell)}</td>" for cell in cells))  # noqa: S308 - each value escaped


def _alerts_html(row):
    if not row["alerts"]:
        return _no_alerts(row)  # plain text: the template escapes it
    shown = ({key: escape(str(alert[key])) for key in ("status", "title", "summary")} for alert in row["alerts"])
    return mark_safe("".join(ALERT_HTML.format(**alert) for alert in shown))  # noqa: S308 - each value escaped


def _no_alerts(row):
    if row["status"] == "down":
        return DASH
    return "none" if row["alerts_checked_at"] else "not checked yet"


def _age(seconds):
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size:.0f} {unit}"
    return f"{seconds:.0f} s"
