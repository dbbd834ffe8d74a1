"""OpenAPI description of the API key authentication (drf-spectacular discovers it on import)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "pgd_<prefix>_<secret>",
                "description": "An API key: `Authorization: Bearer pgd_…` (or `Api-Key pgd_…`)."}
