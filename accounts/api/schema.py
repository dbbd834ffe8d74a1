"""OpenAPI: the API key security scheme and one shared Error component on every operation's error responses."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension

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
    "400": "Bad input: malformed JSON, wrong types, unknown fields or parameters, a bad page_size.",
    "401": "Missing, malformed, invalid, expired or revoked API key.",
    "403": "The key's scopes or the owner's role do not allow this.",
    "404": "No such object (or the body or cursor names one that does not exist).",
    "405": "Method not allowed.",
    "409": "The change conflicts with existing data or with the object's current state.",
    "410": "Gone: the object's file was removed (e.g. an export past JOBS_EXPORT_RETENTION_HOURS).",
    "413": "The request body is too large.",
    "415": "Unsupported Content-Type; send application/json.",
    "424": "The database target the request names cannot be reached or refused the login (`target_unavailable`).",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
    "503": "The database (or a tool's database role) is unavailable; retry after the seconds in Retry-After.",
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


EMPTY_MARK = "x-empty-means-unset"  # moved to the parameter as `allowEmptyValue: true` by add_error_responses


class StrictSerializerScheme(OpenApiSerializerExtension):
    """Request bodies of strict serializers refuse unknown fields: `additionalProperties: false` says so."""

    target_class = "core.api.serializers.StrictSerializerMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if "__doc__" not in type(self.target).__dict__ or not type(self.target).__doc__:
            schema.pop("description", None)  # not the mixin's docstring: it says nothing about this body
        if direction == "request":
            schema["additionalProperties"] = False
            if hasattr(self.target, "openapi_request"):  # rules across fields, said in the schema too
                schema = self.target.openapi_request(schema)
            if getattr(self.target, "unknown_code", "") == "unknown_parameter":
                for prop in schema.get("properties", {}).values():
                    prop[EMPTY_MARK] = True  # StrictQuerySerializer: `?name=` means no filter
        return schema


# PostgreSQL text cannot hold NUL, so every string the API takes refuses it (DRF's CharField does); the schema
# says so, or a generated "\u0000" would be a schema-valid request the API rejects.
NO_NUL = "^[^\\u0000]*$"


def _refuse_nul(schema):
    """Add the no-NUL pattern to every free string in a (request or parameter) schema, recursively."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
            schema["pattern"] = NO_NUL
        for key in ("properties", "items", "additionalProperties", "oneOf", "anyOf", "allOf"):
            value = schema.get(key)
            for child in (value.values() if key == "properties" and isinstance(value, dict) else
                          value if isinstance(value, list) else [value]):
                _refuse_nul(child)


def _request_schemas(result):
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            yield component
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for param in operation.get("parameters", []):
                if param.get("schema", {}).pop(EMPTY_MARK, False):
                    param["allowEmptyValue"] = True
                if param.get("in") in ("query", "header"):
                    yield param.get("schema")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield media.get("schema")


def _takes_target(operation, components):
    """The operation names a database target (?target= or a `target` body field): 404 and 424 can follow."""
    if any(param.get("name") == "target" for param in operation.get("parameters", [])):
        return True
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema") or {}
        if "$ref" in schema:
            schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if "target" in schema.get("properties", {}):
            return True
    return False


def _error_codes(method, path, operation, components=None):
    secured = operation.get("security") not in (None, [], [{}]) and {} not in operation.get("security", [])
    codes = ["429", "503"]
    if secured:
        codes += ["401", "403"]
    if "{" in path or any(param.get("name") in ("page", "cursor") for param in operation.get("parameters", [])):
        codes.append("404")  # no such object, a page past the last one, or a cursor that points at no page
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append("400")
    if operation.get("requestBody"):
        codes += ["413", "415"]
        if method in ("post", "put", "patch"):
            codes.append("409")
    if _takes_target(operation, components or {}) or path.startswith("/api/v1/targets/{name}"):
        codes += ["404", "424"]  # a registered target that cannot be reached or used: 424 target_unavailable
    return sorted(set(codes))


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the Error schema, and its 4xx responses on every operation that can produce them."""
    for schema in _request_schemas(result):
        _refuse_nul(schema)
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            for code in _error_codes(method, path, operation, result["components"]["schemas"]):
                responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code], "content": ref})
            for code, response in responses.items():
                # A view declares an extra error by its status alone (`409: OpenApiResponse(description=…)`).
                if code in ERROR_DESCRIPTIONS and not response.get("content"):
                    response["content"] = ref
    return result
