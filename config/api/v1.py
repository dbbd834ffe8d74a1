"""Every /api/v1/ route. Each app exposes its routes in <app>/api/urls.py; they are gathered here."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("blog.api.urls")),
    path("", include("dbtools.api.urls")),
    path("", include("jobs.api_urls")),
    path("", include("targets.api_urls")),
]
