"""Chart settings of a saved query: {"type": "line"|"bar"|"scatter", "x": column, "y": [columns], "title"?}.

Column names are not checked against a result here (the SQL may change); the page ignores unknown ones."""

from django.core.exceptions import ValidationError

CHART_TYPES = ("line", "bar", "scatter")
MAX_SERIES = 8
MAX_NAME = 200
KEYS = {"type", "x", "y", "title"}


def _name(value, what):
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME or "\x00" in value:
        raise ValidationError(f"Chart {what} must be a column name of 1 to {MAX_NAME} characters.")
    return value


def clean_chart(value):
    """The chart settings, normalised; None for no chart. Raises ValidationError with one clear message."""
    if value in (None, {}, ""):
        return None
    if not isinstance(value, dict):
        raise ValidationError("Chart settings must be an object: {\"type\", \"x\", \"y\"}.")
    unknown = sorted(set(value) - KEYS)
    if unknown:
        raise ValidationError(f"Unknown chart setting(s): {', '.join(map(str, unknown))[:200]}.")
    if value.get("type") not in CHART_TYPES:
        raise ValidationError(f"Chart type must be one of {', '.join(CHART_TYPES)}.")
    series = value.get("y")
    if isinstance(series, str):
        series = [series]
    if not isinstance(series, list) or not 1 <= len(series) <= MAX_SERIES:
        raise ValidationError(f"Chart y must list 1 to {MAX_SERIES} columns.")
    title = value.get("title", "")
    if not isinstance(title, str) or len(title) > MAX_NAME or "\x00" in title:
        raise ValidationError(f"Chart title must be text of at most {MAX_NAME} characters.")
    chart = {"type": value["type"], "x": _name(value.get("x"), "x"), "y": [_name(item, "y") for item in series]}
    return {**chart, "title": title} if title else chart


def validate_chart(value):
    clean_chart(value)
