"""dbtools API routes; each feature adds its include() line here."""

from django.urls import include, path

urlpatterns = []
urlpatterns.append(path("", include("dbtools.monitoring.api.urls")))
