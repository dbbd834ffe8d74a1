"""Create one group per role with the permission matrix of accounts/roles.py.

It deliberately does not depend on blog's migrations: rolling the mirrored blog app back (manage.py alembic
downgrade) must not unapply the roles. Permissions of apps migrated later reach the groups through the
post_migrate handler (accounts.signals.keep_roles_in_step).
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations (post_migrate); the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    from accounts.roles import ROLE_CHOICES, ROLE_PERMISSIONS

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, _label in ROLE_CHOICES:
        group, _ = Group.objects.get_or_create(name=role)
        perms = ROLE_PERMISSIONS[role]
        if perms is None:
            group.permissions.set(Permission.objects.all())
            continue
        wanted = [tuple(p.split(".")) for p in perms]
        group.permissions.set(
            [p for p in Permission.objects.select_related("content_type")
             if (p.content_type.app_label, p.codename) in wanted]
        )


def drop_roles(apps, schema_editor):
    from accounts.roles import ROLE_CHOICES

    apps.get_model("auth", "Group").objects.filter(name__in=[r for r, _ in ROLE_CHOICES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("dbtools", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
