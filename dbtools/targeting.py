"""How every tool picks a database target (issue 14): one name, checked once, errors with one code each.

Services take a `target` name ("default": the app's own database) and call `authorize` before opening anything;
connections come from `targets.seam`. Screens and the API turn the errors into a page note / a 4xx with
`target_error` (the one table of codes), so a missing, forbidden or unreachable target is never a 500.
"""

from targets import selectors as target_selectors
from targets.errors import TargetForbidden, TargetNotFound, TargetUnavailable

DEFAULT = "default"
CAPABILITIES = ("query", "write", "monitor", "signal", "backup", "restore")

# error class → (HTTP status, API code). An unreachable target is the client's choice of upstream failing: a 4xx
# (424 Failed Dependency), not a 5xx of pgdeck's own.
TARGET_ERRORS = {
    TargetNotFound: (404, "target_not_found"),
    TargetForbidden: (403, "target_forbidden"),
    TargetUnavailable: (424, "target_unavailable"),
}
TARGET_ERROR_TYPES = tuple(TARGET_ERRORS)


def target_name(value):
    """The name a request asked for: empty means the default target."""
    return str(value or "").strip() or DEFAULT


def is_default(name):
    return target_name(name) == DEFAULT


def where_on(name, dbname):
    """How a database of a target is named to people, jobs and locks: `db` on default, `target/db` elsewhere."""
    return dbname if is_default(name) else f"{target_name(name)}/{dbname}"


def authorize(actor, name, capability):
    """The checked target name: it exists and `actor` may use it for `capability`; raises TargetNotFound /
    TargetForbidden. A string actor is an operating-system user running manage.py (holds the credentials)."""
    assert capability in CAPABILITIES, capability
    name = target_name(name)
    if name != DEFAULT:
        target_selectors.target_get(name)  # TargetNotFound when it is not registered (or was deleted)
    if isinstance(actor, str):
        return name
    if actor is None or not getattr(actor, "is_active", False) or not target_selectors.user_can(actor, name,
                                                                                              capability):
        who = getattr(actor, "username", "anonymous")
        raise TargetForbidden(f"{who} may not use target {name!r} for {capability}.")
    return name


def target_error(exc):
    """(status, code, one-line message) of a target error."""
    for kind, (status, code) in TARGET_ERRORS.items():
        if isinstance(exc, kind):
            return status, code, _one_line(exc)
    return 400, "target_error", _one_line(exc)


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
