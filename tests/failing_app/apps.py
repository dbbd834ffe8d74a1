from django.apps import AppConfig


class FailingAppConfig(AppConfig):
    name = "tests.failing_app"
    label = "failing_app"
