"""Reads: which targets exist and who may use which for what."""

from django.conf import settings

from targets.errors import TargetNotFound
from targets.models import CAPABILITIES, DEFAULT, Target, TargetGrant

# The permission a capability needs from the user's role (accounts/roles.py), on every target.
CAPABILITY_PERMISSIONS = {
    "query": "dbtools.run_query",
    "write": "dbtools.run_write_query",
    "monitor": "dbtools.view_monitoring",
    "signal": "dbtools.cancel_backend",
    "backup": "dbtools.manage_backups",
    "restore": "dbtools.restore_backup",
}
CAPABILITY_NAMES = [name for name, _ in CAPABILITIES]


def default_target():
    """The app's own database as an unsaved Target (no password: the seam reads it from settings)."""
    from targets.seam import default_spec

    spec = default_spec()
    return Target(name=DEFAULT, host=spec.host, port=int(spec.port or 5432), dbname=spec.dbname, user=spec.user,
                  sslmode=spec.options.get("sslmode", "prefer"), sslrootcert=spec.options.get("sslrootcert", ""),
                  environment=settings.DEFAULT_TARGET_ENVIRONMENT, source="file",
                  notes="The app's own database (DATABASE_URL).")


def target_list():
    """Every target, "default" first."""
    return [default_target(), *Target.objects.all()]


def target_get(name):
    if name == DEFAULT:
        return default_target()
    try:
        return Target.objects.get(name=name)
    except (Target.DoesNotExist, ValueError, TypeError):
        raise TargetNotFound(name) from None


def _is_admin(user):
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", None) == "admin")


def _granted_target_ids(user, capability):
    return set(TargetGrant.objects.filter(group__in=user.groups.all(), capability=capability)
               .values_list("target_id", flat=True))


def user_can(user, target_name, capability):
    """True when `user` may use `target_name` for `capability`. Admins: everything. Others need their role's
    permission for it (so "default" behaves as before) and, on a registered target, a grant to one of their
    groups for that capability."""
    if capability not in CAPABILITY_PERMISSIONS or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", True):
        return False
    if _is_admin(user):
        return target_name == DEFAULT or Target.objects.filter(name=target_name).exists()
    if not user.has_perm(CAPABILITY_PERMISSIONS[capability]):
        return False
    if target_name == DEFAULT:
        return True
    return TargetGrant.objects.filter(target__name=target_name, group__in=user.groups.all(),
                                      capability=capability).exists()


def _registered_for_user(user, capability):
    """The registered targets `user` may use for `capability` (a queryset), or None: not even "default"."""
    if capability not in CAPABILITY_PERMISSIONS or not getattr(user, "is_authenticated", False):
        return None
    if _is_admin(user):
        return Target.objects.all()
    if not user.has_perm(CAPABILITY_PERMISSIONS[capability]):
        return None
    return Target.objects.filter(pk__in=_granted_target_ids(user, capability))


def targets_for_user(user, capability):
    """The targets `user` may use for `capability`, "default" first."""
    registered = _registered_for_user(user, capability)
    return [] if registered is None else [default_target(), *registered]


def target_names_for_user(user, capability):
    """The names of targets_for_user, without building a Target per row (a target picker on every page)."""
    registered = _registered_for_user(user, capability)
    return [] if registered is None else [DEFAULT, *registered.values_list("name", flat=True)]
