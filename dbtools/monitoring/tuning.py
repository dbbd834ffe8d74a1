"""The settings tune screen: pg_settings next to suggestions derived from the server's RAM and CPUs.

PostgreSQL does not report the machine it runs on. When the database is on this host (a socket or localhost),
pgdeck reads this machine's RAM and CPU count; otherwise, or to correct them, the form asks.
"""

import os

from django import forms

from dbtools.monitoring.admin_views import monitoring_view
from dbtools.monitoring.queries.base import current_target, fetch_all, monitoring_connection
from dbtools.monitoring.tuning_rules import GB, MB, suggestions

UNIT_BYTES = {"B": 1, "kB": 1024, "8kB": 8192, "MB": MB, "16MB": 16 * MB, "GB": GB}
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


class MachineForm(forms.Form):
    ram_gb = forms.FloatField(label="RAM (GB)", min_value=0.25, max_value=16384)
    cpus = forms.IntegerField(label="CPUs", min_value=1, max_value=1024)
    storage = forms.ChoiceField(choices=[("ssd", "SSD / cloud volume"), ("hdd", "spinning disk")])


def detected_machine():
    """This host's RAM and CPUs when the database runs here, else None."""
    if current_target() != "default":
        return None  # another server: this host's RAM says nothing about it
    host = str(monitoring_connection().settings_dict.get("HOST") or "")
    if host not in LOCAL_HOSTS and not host.startswith("/"):
        return None
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return {"ram_gb": round(ram / GB, 2), "cpus": os.cpu_count() or 1, "storage": "ssd"}


def current_settings(names):
    rows = fetch_all("SELECT name, setting, unit, source FROM pg_settings WHERE name = ANY(%s)", [list(names)])
    return {row["name"]: row for row in rows}


def _numeric(row):
    """A setting as a number in bytes (memory) or as it is; None when it is not a number (e.g. -1 = default)."""
    try:
        value = float(row["setting"])
    except (TypeError, ValueError):
        return None
    return value * UNIT_BYTES.get(row["unit"] or "", 1) if row["unit"] in UNIT_BYTES else value


def _status(current, suggested):
    if current is None or current < 0:
        return "review"
    if suggested == 0:
        return "ok" if current == 0 else "review"
    return "ok" if 0.75 <= current / suggested <= 1.34 else "review"


def compare(machine):
    ram, cpus, ssd = int(machine["ram_gb"] * GB), machine["cpus"], machine["storage"] == "ssd"
    connections = current_settings(["max_connections"])
    max_connections = int(connections["max_connections"]["setting"]) if connections else 100
    sections = suggestions(ram=ram, cpus=cpus, ssd=ssd, max_connections=max_connections)
    now = current_settings([name for _title, rows in sections for name, *_rest in rows])
    result = []
    for title, rows in sections:
        shown = []
        for name, value, label, why in rows:
            row = now.get(name)
            current = _numeric(row) if row else None
            shown.append({"name": name, "current": _pretty(row), "suggested": label, "why": why,
                          "status": _status(current, value), "source": row["source"] if row else "—"})
        result.append({"title": title, "rows": shown})
    return result


def _pretty(row):
    if not row:
        return "—"
    value = _numeric(row)
    if row["unit"] in UNIT_BYTES and value is not None and value >= 0:
        return f"{value / GB:g} GB" if value >= GB and value % GB == 0 else f"{value / MB:g} MB"
    return f"{row['setting']}{' ' + row['unit'] if row['unit'] and row['unit'] not in UNIT_BYTES else ''}"


@monitoring_view("dbtools_monitoring_tuning", "Settings tune", "tuning.html")
def tuning_view(request):
    detected = detected_machine()
    form = MachineForm(request.GET) if "ram_gb" in request.GET else MachineForm(initial=detected)
    machine = form.cleaned_data if form.is_bound and form.is_valid() else None if form.is_bound else detected
    return {"form": form, "detected": detected, "machine": machine,
            "sections": compare(machine) if machine else []}
