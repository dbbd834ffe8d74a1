"""OpenAPI: the API key security scheme and one shared Error component on every operation's error responses."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a stable machine-readable `code`, a human `message`, optional `details`.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "not_authenticated"},
                "message": {"type": "string", "example": "Authentication credentials were not provided."},
                "details": {"nullable": True, "description": "Per-field messages or extra context."},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

ERROR_DESCRIPTIONS = {
    "400": "Bad input: malformed JSON, wrong types, unknown fields or parameters, a bad cursor.",
    "401": "Missing, malformed, invalid, expired or revoked API key.",
    "403": "The key's scopes or the owner's role do not allow this.",
    "404": "No such object.",
    "405": "Method not allowed.",
    "409": "The change conflicts with existing data.",
    "413": "The request body is too large.",
    "415": "Unsupported Content-Type; send application/json.",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pgd_<prefix>_<secret>",
            "description": "An API key: `Authorization: Bearer pgd_…` (`Authorization: Api-Key pgd_…` works too).",
        }


def _error_codes(method, path, operation):
    secured = operation.get("security") not in (None, [], [{}]) and {} not in operation.get("security", [])
    codes = ["429"]
    if secured:
        codes += ["401", "403"]
    if "{" in path or any(param.get("name") == "page" for param in operation.get("parameters", [])):
        codes.append("404")  # no such object, or a page past the last one
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append("400")
    if operation.get("requestBody"):
        codes += ["413", "415"]
        if method in ("post", "put", "patch"):
            codes.append("409")
    return sorted(set(codes))


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the Error schema, and its 4xx responses on every operation that can produce them."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            for code in _error_codes(method, path, operation):
                responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code], "content": ref})
    return result
