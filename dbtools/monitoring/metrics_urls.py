"""Mounted at /metrics by config/urls.py."""

from django.urls import path

from dbtools.monitoring.metrics import metrics_view

urlpatterns = [path("", metrics_view, name="metrics")]
