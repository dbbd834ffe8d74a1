"""/api/: the versioned API (v1) and its OpenAPI schema and offline docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import schema  # noqa: F401  (registers the OpenAPI auth extension before a schema is built)
from config.api.errors import api_not_found
from core.api.permissions import DocsAccess

urlpatterns = [
    path("v1/", include("config.api.v1")),
    path("auth/", include("rest_framework.urls")),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[DocsAccess]), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[DocsAccess]),
         name="api-docs"),
    # Last: any other /api/ URL is a JSON 404 (not the HTML page, not an APPEND_SLASH redirect that drops a body).
    # [\s\S], not ".": a path may hold an encoded newline (%0A). (Django cannot reverse a "(?s)" flag.)
    re_path(r"^[\s\S]*$", api_not_found),
]
