from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and API keys"

    def ready(self):
        from accounts import signals  # noqa: F401
        # accounts.api.schema (the OpenAPI auth extension) is imported by config/api/urls.py, with the schema
        # views: drf-spectacular and DRF's fields were a fifth of every process's django.setup().
