from django.apps import AppConfig


class DbtoolsConfig(AppConfig):
    name = "dbtools"
    verbose_name = "Database tools"

    def ready(self):
        from dbtools.migrations_bridge.signals import connect_bridge

        connect_bridge(self)
        from dbtools.monitoring import signals  # noqa: F401  (records pgdeck's own backend pids from the start)
