from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and API keys"

    def ready(self):
        from accounts import signals  # noqa: F401
        from accounts.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
