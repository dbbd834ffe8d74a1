"""dbtools API routes; each feature adds its include() line here."""

from django.urls import include, path

from dbtools.audit_api import AuditListView

urlpatterns = [
    path("audit", AuditListView.as_view(), name="api-audit"),
    path("", include("dbtools.query.api_urls")),
    path("", include("dbtools.monitoring.api_urls")),
    path("", include("dbtools.migrations_bridge.api_urls")),
    path("", include("dbtools.backups.api_urls")),
]
