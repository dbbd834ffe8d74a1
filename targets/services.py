"""Writes on registered targets (create, update, delete), audited with the target's name, never its password."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from targets import identity
from targets.errors import TargetConflict, TargetDuplicate, TargetInvalid, TargetReadOnly
from targets.models import DEFAULT, Target
from targets.selectors import target_get

EDITABLE = ("host", "port", "dbname", "user", "sslmode", "sslrootcert", "environment", "notes")


def validated(target):
    try:
        target.full_clean()
    except ValidationError as exc:
        first = next(iter(exc.message_dict.items()))
        raise TargetInvalid(f"{first[0]}: {first[1][0]}") from None
    return target


def _identify(target):
    """Read what the server says the target is (None when it cannot be reached: nothing to compare) and which
    other targets are that same database; sets target.identity / .duplicate_of (not saved)."""
    found = identity.of_target(target)
    target.duplicate_of = identity.duplicates(target.name, found) if found else []
    if found:
        target.identity, target.identity_checked_at = found, timezone.now()
    return target


def target_create(*, name, password="", request=None, source="admin", allow_duplicate=True, **fields):
    """Register a target. It is connected to once (TARGETS_CONNECT_TIMEOUT) to learn which database it is: one
    that is the same database as another target is refused (TargetDuplicate) unless `allow_duplicate`; either
    way `.duplicate_of` names the others. An unreachable target is registered (it may be down right now)."""
    if name == DEFAULT:
        raise TargetConflict('the name "default" is taken by the app\'s own database')
    if Target.objects.filter(name=name).exists():
        raise TargetConflict(f"a target named {name!r} already exists")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TargetInvalid(f"unknown field(s): {', '.join(sorted(unknown))}")
    target = Target(name=name, source=source, **fields)
    target.password = password
    _identify(validated(target))
    if target.duplicate_of and not allow_duplicate:
        raise TargetDuplicate(f"target {name!r} is the same database as {', '.join(target.duplicate_of)} "
                              f"({identity.label(target.identity)}); send allow_duplicate to register it anyway")
    with transaction.atomic():
        target.save()
        audit_record("target.create", request=request, target=name, environment=target.environment,
                     duplicate_of=target.duplicate_of)
    return target


def target_update(name, *, request=None, password=None, **fields):
    """Change `fields`; `password=None` keeps the stored one, "" clears it."""
    target = target_get(name)
    if target.is_default or target.source == "file":
        raise TargetReadOnly(f"target {name!r} comes from {'settings' if target.is_default else 'the targets file'} "
                             "and is read-only here")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TargetInvalid(f"unknown field(s): {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        setattr(target, key, value)
    if password is not None:
        target.password = password
    _identify(validated(target))
    with transaction.atomic():
        target.save()
        audit_record("target.update", request=request, target=name, fields=sorted(fields),
                     password_changed=password is not None, duplicate_of=target.duplicate_of)
    return target


def target_delete(name, *, request=None):
    target = target_get(name)
    if target.is_default or target.source == "file":
        raise TargetReadOnly(f"target {name!r} comes from {'settings' if target.is_default else 'the targets file'} "
                             "and cannot be deleted here")
    with transaction.atomic():
        target.delete()
        audit_record("target.delete", request=request, target=name)


def target_test(name, *, request=None):
    """Connect to `name` once (TargetNotFound for an unknown name) → TargetTestResult; audited with the outcome."""
    from targets.probe import probe

    target = target_get(name)
    result = probe(target)
    if result.identity:
        result.duplicate_of = identity.duplicates(name, result.identity)
        if not target.is_default:  # stored for the fleet and the lists (default is read live)
            Target.objects.filter(pk=target.pk).update(identity=result.identity, identity_checked_at=timezone.now())
    audit_record("target.test", request=request, target=name, ok=result.ok, error=result.error,
                 server_version=result.server_version, tls_in_use=result.tls_in_use,
                 duplicate_of=result.duplicate_of)
    return result


def targets_check_duplicates(names):
    """{name: [other targets that are the same database]} for `names`, each read over its own connection and
    stored (the targets file's load command runs this after loading); unreachable ones are left out."""
    found = {}
    for target in Target.objects.filter(name__in=names):
        _identify(target)
        if target.identity_checked_at:
            Target.objects.filter(pk=target.pk).update(identity=target.identity,
                                                       identity_checked_at=target.identity_checked_at)
        if target.duplicate_of:
            found[target.name] = target.duplicate_of
    return found


def target_grants_changed(name, *, request=None):
    """Audit a change of who may use `name` for what (the admin's inline saves the rows)."""
    from targets.models import TargetGrant

    grants = sorted(f"{g.group.name}:{g.capability}" for g in TargetGrant.objects.filter(target__name=name)
                    .select_related("group"))
    audit_record("target.grants", request=request, target=name, grants=grants)


def targets_load_file(path=None):
    """Load PGDECK_TARGETS_FILE (or `path`): see targets/file.py."""
    from targets.file import targets_load_file as load

    return load(path)
