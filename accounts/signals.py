from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.dispatch import receiver

from accounts.key_cache import key_cache
from accounts.models import ApiKey, User


@receiver(post_save, sender=User)
def keep_role_group(sender, instance, raw=False, **kwargs):
    if not raw:
        from accounts.services import user_sync_role_group

        user_sync_role_group(instance)


@receiver(post_migrate)
def keep_roles_in_step(sender, app_config=None, using="default", **kwargs):
    # Runs after every app's permissions exist, so a new permission reaches its role without a new migration.
    # jobs comes after dbtools in INSTALLED_APPS: its permissions (the Jobs screen) exist only after its own turn.
    # targets (after jobs) too: its permissions (the Targets admin, /api/v1/targets writes) are the admin role's.
    if app_config is not None and app_config.label in ("dbtools", "jobs", "targets"):
        from accounts.services import roles_sync

        roles_sync()


def _key_rows_changed(sender, update_fields=None, **kwargs):
    # PostgreSQL tells every process (NOTIFY from triggers); this process's own next request need not wait for it.
    if sender is ApiKey and update_fields and set(update_fields) <= {"last_used"}:
        return
    transaction.on_commit(key_cache.clear)


for model in (ApiKey, User, Group, Permission):
    post_save.connect(_key_rows_changed, sender=model, dispatch_uid=f"key_cache_save_{model.__name__}")
    post_delete.connect(_key_rows_changed, sender=model, dispatch_uid=f"key_cache_delete_{model.__name__}")
for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
    m2m_changed.connect(_key_rows_changed, sender=through, dispatch_uid=f"key_cache_m2m_{through.__name__}")
