"""Target passwords at rest, key rotation, and who may use which target for what."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from targets import crypto
from targets.errors import TargetNotFound, TargetUnavailable
from targets.models import Target, TargetGrant
from targets.selectors import target_get, target_list, target_names_for_user, targets_for_user, user_can


def make_target(name="prod", password="pw-1", **fields):
    target = Target(name=name, host="db.example.com", dbname="shop", user="reader", **fields)
    target.password = password
    target.save()
    return target


def test_password_is_encrypted_and_rotates_to_the_new_key(db, settings):
    old, new = crypto.generate_key(), crypto.generate_key()
    settings.TARGETS_ENCRYPTION_KEYS = [old]
    target = make_target()
    before = Target.objects.get(pk=target.pk).password_encrypted
    assert "pw-1" not in before
    settings.TARGETS_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_targets_key")
    settings.TARGETS_ENCRYPTION_KEYS = [new]  # the old key is gone: the password still reads
    assert Target.objects.get(pk=target.pk).password == "pw-1"
    assert AuditEvent.objects.filter(action="targets.rotate_key").exists()


def test_a_removed_key_is_one_line_and_loses_nothing(db, settings):
    settings.TARGETS_ENCRYPTION_KEYS = [crypto.generate_key()]
    target = make_target()
    token = Target.objects.get(pk=target.pk).password_encrypted
    settings.TARGETS_ENCRYPTION_KEYS = [crypto.generate_key()]
    with pytest.raises(TargetUnavailable, match="cannot be decrypted") as info:
        Target.objects.get(pk=target.pk).password  # noqa: B018
    assert "\n" not in str(info.value)
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_targets_key")
    assert Target.objects.get(pk=target.pk).password_encrypted == token  # rolled back, nothing lost


def test_no_keys_refuses_to_store_a_password(db, settings):
    settings.TARGETS_ENCRYPTION_KEYS = []
    with pytest.raises(TargetUnavailable, match="PGDECK_TARGETS_KEYS is not set"):
        make_target()
    assert not Target.objects.exists()


def test_default_is_always_listed_and_unknown_names_raise(db):
    make_target("analytics")
    assert [t.name for t in target_list()] == ["default", "analytics"]
    assert target_get("default").is_default and target_get("analytics").dbname == "shop"
    with pytest.raises(TargetNotFound):
        target_get("missing")


def test_permissions_role_and_grant(make_user):
    make_target("prod")
    admin, analyst, viewer = make_user("admin"), make_user("analyst"), make_user("viewer")
    assert user_can(admin, "prod", "restore") and user_can(admin, "default", "query")
    assert not user_can(admin, "missing", "query")
    assert user_can(analyst, "default", "query")  # "default": today's role permissions
    assert not user_can(analyst, "default", "write") and not user_can(viewer, "default", "query")
    assert not user_can(analyst, "prod", "query")  # a registered target needs a grant
    for role in ("analyst", "viewer"):
        TargetGrant.objects.create(target=Target.objects.get(name="prod"), group=Group.objects.get(name=role),
                                   capability="query")
    assert user_can(analyst, "prod", "query")
    assert not user_can(viewer, "prod", "query")  # the grant never exceeds the role
    assert not user_can(analyst, "prod", "nonsense")
    assert [t.name for t in targets_for_user(analyst, "query")] == ["default", "prod"]
    assert [t.name for t in targets_for_user(analyst, "monitor")] == ["default"]
    assert targets_for_user(viewer, "query") == []


def test_target_names_for_user_are_the_names_of_targets_for_user(make_user):
    """The picker's names-only read answers what targets_for_user answers, for every kind of user."""
    for name in ("prod", "analytics"):
        make_target(name)
    TargetGrant.objects.create(target=Target.objects.get(name="prod"), group=Group.objects.get(name="analyst"),
                               capability="monitor")
    users = [make_user(role) for role in ("admin", "analyst", "viewer")] + [AnonymousUser()]
    for user in users:
        for capability in ("monitor", "query", "restore", "nonsense"):
            names = [t.name for t in targets_for_user(user, capability)]
            assert target_names_for_user(user, capability) == names, (user, capability)
    assert target_names_for_user(users[1], "monitor") == ["default", "prod"]
