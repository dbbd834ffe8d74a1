"""dbtools API routes; each feature adds its include() line here."""

from django.urls import include, path

urlpatterns = [
    path("", include("dbtools.migrations_bridge.urls")),
]
