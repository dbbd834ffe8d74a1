"""The `target` of a tool endpoint: the API key's target list (core.api.permissions.key_allows_target) and the
user's grants (dbtools.targeting.authorize), with the same error codes on every endpoint."""

from config.api.errors import ApiError
from core.api.permissions import key_allows_target
from dbtools.targeting import TARGET_ERROR_TYPES, authorize, target_error, target_name

TARGET_HELP = "a registered target's name; default: the app's own database"


def api_target(request, name, capability=None):
    """The checked target name of an API request; ApiError 403/404 otherwise. Without `capability` only the key's
    list is checked (the service authorises the user itself)."""
    name = target_name(name)
    if not key_allows_target(request, name):
        raise ApiError(403, "target_forbidden", f"This API key is not allowed to use target {name!r}.",
                       {"target": name[:100]})
    if capability is not None:
        try:
            authorize(request.user, name, capability)
        except TARGET_ERROR_TYPES as exc:
            raise api_target_error(exc, name)
    return name


def api_target_error(exc, name=""):
    status, code, message = target_error(exc)
    return ApiError(status, code, message, {"target": str(name)[:100]} if name else None)
