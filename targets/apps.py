from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TargetsConfig(AppConfig):
    name = "targets"
    label = "targets"
    verbose_name = "Targets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from targets.file import load_at_startup

        post_migrate.connect(load_at_startup, sender=self, dispatch_uid="targets-load-file")
