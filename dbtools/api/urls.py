"""dbtools API routes; each feature adds its include() line here."""

from django.urls import include, path

urlpatterns = [
    path("", include("dbtools.backups.api_urls")),
]
