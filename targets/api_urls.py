from django.urls import path

from targets.api import TargetDetailView, TargetListView, TargetTestView

urlpatterns = [
    path("targets", TargetListView.as_view(), name="api-targets"),
    path("targets/<str:name>", TargetDetailView.as_view(), name="api-target"),
    path("targets/<str:name>/test", TargetTestView.as_view(), name="api-target-test"),
]
