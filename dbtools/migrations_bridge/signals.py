"""Signal wiring of the Alembic bridge (called from DbtoolsConfig.ready)."""

from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import post_delete, post_migrate, post_save, pre_migrate


def connect_bridge(app_config):
    from dbtools.migrations_bridge import (
        checks,  # noqa: F401  (registers the start-up check)
        hooks,
    )

    pre_migrate.connect(hooks.on_pre_migrate, sender=app_config, dispatch_uid="alembic_bridge_pre_migrate")
    post_migrate.connect(hooks.on_post_migrate, sender=app_config, dispatch_uid="alembic_bridge_post_migrate")
    recorder_model = MigrationRecorder.Migration
    post_save.connect(hooks.on_recorder_change, sender=recorder_model, dispatch_uid="alembic_bridge_recorded")
    post_delete.connect(hooks.on_recorder_change, sender=recorder_model, dispatch_uid="alembic_bridge_unrecorded")
