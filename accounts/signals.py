from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver

from accounts.models import User


@receiver(post_save, sender=User)
def keep_role_group(sender, instance, raw=False, **kwargs):
    if not raw:
        from accounts.services import user_sync_role_group

        user_sync_role_group(instance)


@receiver(post_migrate)
def keep_roles_in_step(sender, app_config=None, using="default", **kwargs):
    # Runs after every app's permissions exist, so a new permission reaches its role without a new migration.
    if app_config is not None and app_config.label == "dbtools":
        from accounts.services import roles_sync

        roles_sync()
