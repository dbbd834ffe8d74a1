"""Query history screens: top statements in a window, one statement's history. Thin: parse, select, render."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from dbtools.monitoring.admin_views import monitoring_view
from dbtools.monitoring.history import selectors
from dbtools.monitoring.visibility import visibility_for

WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
WINDOW_LABELS = [("1h", "Last hour"), ("24h", "Last day"), ("7d", "Last 7 days"), ("30d", "Last 30 days"),
                 ("custom", "Custom")]
MAX_WINDOW = timedelta(days=400)


class WindowError(ValueError):
    pass


def _moment(text, name):
    """A datetime-local value ("2026-11-30T10:00"), read as UTC like every time on these pages."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise WindowError(f"{name} must be a date and time like 2026-11-30T10:00") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_window(params, now=None):
    """(key, start, end) from ?window=1h|24h|7d|30d or ?window=custom&start=…&end=…; WindowError when bad."""
    now = now or timezone.now()
    key = params.get("window", "24h")
    if key in WINDOWS:
        return key, now - WINDOWS[key], now
    if key != "custom":
        raise WindowError(f"unknown window {key[:20]!r}; choose 1h, 24h, 7d, 30d or custom")
    start, end = _moment(params.get("start", ""), "start"), _moment(params.get("end", ""), "end")
    if start >= end:
        raise WindowError("start must be before end")
    if end - start > MAX_WINDOW:
        raise WindowError("a window can span at most 400 days")
    return key, start, end


def _window_context(request):
    """The window asked for, or the last day and a form error (a bad window never becomes a 500)."""
    try:
        key, start, end = parse_window(request.GET)
        error = None
    except WindowError as exc:
        (key, start, end), error = parse_window({}), str(exc)
    return {"window": key, "start": start, "end": end, "window_error": error, "windows": WINDOW_LABELS,
            "start_value": start.strftime("%Y-%m-%dT%H:%M"), "end_value": end.strftime("%Y-%m-%dT%H:%M")}


def _points(rows, field):
    return ",".join(f"{row[field]:.3f}" if isinstance(row[field], float) else str(row[field]) for row in rows)


@monitoring_view("dbtools_monitoring_query_history", "Query history", "query_history.html")
def query_history_view(request):
    context = _window_context(request)
    sort = request.GET.get("sort", "total")
    sort = sort if sort in selectors.SORTS else "total"
    rows = selectors.top_statements(context["start"], context["end"], sort=sort)
    lines = selectors.sparklines([row["queryid"] for row in rows], context["start"], context["end"])
    visibility = visibility_for(request)  # the text rule of every monitoring screen: fingerprint unless
    # dbtools.view_query_text (pg_stat_statements keeps comments and some literals)
    for row in rows:  # formatted here: 50 rows × a few filters were a third of the page's time
        row.update(text=_short(visibility.query(row["query"])), spark=lines.get(row["queryid"], ""),
                   total_label=f"{row['total_ms']:,.1f}", mean_label=f"{row['mean_ms'] or 0:,.2f}",
                   hit_label=_hit_percent(row))
    window = urlencode({"window": context["window"], "start": context["start_value"], "end": context["end_value"]})
    return {**context, "rows": rows, "sort": sort, "sorts": list(selectors.SORTS), "window_query": window,
            "detail_base": f"{reverse('admin:dbtools_monitoring_query_history_detail')}?{window}&queryid=",
            "full_text": visibility.query_text, "last_snapshot": selectors.last_snapshot()}


def _short(text, limit=300):
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _hit_percent(row):
    total = row["blks_hit"] + row["blks_read"]
    return f"{100 * row['blks_hit'] / total:.0f}%" if total else "—"


@monitoring_view("dbtools_monitoring_query_history_detail", "Statement history", "query_history_detail.html")
def query_history_detail_view(request):
    try:
        queryid = int(request.GET.get("queryid", ""))
    except ValueError:
        raise Http404("queryid must be a number.") from None
    text = selectors.statement_text(queryid) if -2**63 <= queryid < 2**63 else None
    if text is None:
        raise Http404("No history for that statement.")
    context = _window_context(request)
    totals = selectors.top_statements(context["start"], context["end"], queryid=queryid, limit=1)
    points = selectors.series([queryid], context["start"], context["end"])[queryid]
    return {**context, "queryid": queryid, "text": visibility_for(request).query(text["query"]),
            "first_seen": text["first_seen"], "totals": totals[0] if totals else None, "points": points,
            "labels": ",".join(point["bucket"].strftime("%Y-%m-%dT%H:%MZ") for point in points),
            "calls_series": _points(points, "calls"), "total_series": _points(points, "total_ms"),
            "level": selectors.series_level(context["start"], context["end"])}
