from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("dbtools/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", include("config.api.urls")),
    path("metrics", include("dbtools.monitoring.metrics_urls")),
]

handler500 = "config.middleware.server_error"
