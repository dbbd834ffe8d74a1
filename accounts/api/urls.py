from django.urls import path

from accounts.api.views import HealthView, MeView

urlpatterns = [
    path("health", HealthView.as_view(), name="api-health"),
    path("me", MeView.as_view(), name="api-me"),
]
