"""dbtools API routes; each feature adds its include() line here."""

from django.urls import include, path

urlpatterns = [
    path("", include("dbtools.query.api_urls")),
    path("", include("dbtools.monitoring.api.urls")),
    path("", include("dbtools.backups.api_urls")),
]
