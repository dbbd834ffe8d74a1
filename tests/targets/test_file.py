"""Targets from PGDECK_TARGETS_FILE (TOML or YAML): loaded by command and after migrate, strict, all or nothing."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from targets.file import load_at_startup
from targets.models import Target, TargetGrant

GOOD = """
[targets.analytics]
host = "analytics.db.internal"
port = 6543
dbname = "analytics"
user = "reader"
password_env = "PGDECK_TEST_ANALYTICS_PW"
sslmode = "verify-full"
sslrootcert = "/etc/ssl/root.crt"
environment = "production"
grants = { query = ["analyst"], monitor = ["operator"] }

[targets.staging]
host = "staging.db.internal"
dbname = "shop"
user = "reader"
environment = "staging"
"""


@pytest.fixture
def analyst_group(db):
    for name in ("analyst", "operator"):
        Group.objects.get_or_create(name=name)


def write(tmp_path, text, name="targets.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_toml_file_loads_with_grants_and_encrypted_password(tmp_path, analyst_group, monkeypatch, settings):
    monkeypatch.setenv("PGDECK_TEST_ANALYTICS_PW", "from-env-pw")
    settings.TARGETS_FILE = write(tmp_path, GOOD)
    call_command("load_targets")
    analytics = Target.objects.get(name="analytics")
    assert (analytics.source, analytics.port, analytics.environment, analytics.password) == (
        "file", 6543, "production", "from-env-pw")
    assert sorted(TargetGrant.objects.filter(target=analytics).values_list("group__name", "capability")) == [
        ("analyst", "query"), ("operator", "monitor")]
    assert Target.objects.get(name="staging").port == 5432
    settings.TARGETS_FILE = write(tmp_path, GOOD.split("[targets.staging]")[0])
    load_at_startup()
    assert list(Target.objects.values_list("name", flat=True)) == ["analytics"]  # removed from the file


def test_yaml_file_loads(tmp_path, db, settings):
    settings.TARGETS_FILE = write(tmp_path, "targets:\n  bi:\n    host: bi.internal\n    dbname: bi\n    user: r\n"
                                            "    password: yaml-pw\n", name="targets.yaml")
    call_command("load_targets")
    assert Target.objects.get(name="bi").password == "yaml-pw"


@pytest.mark.parametrize("text, message", [
    ("[targets.a\nhost = 1", "is not valid toml"),
    ('[targets.a]\nhots = "x"\ndbname = "d"\nuser = "u"', "unknown key(s) hots"),
    ('[targets.default]\nhost = "x"\ndbname = "d"\nuser = "u"', "'default' is the app's own database"),
    ('[targets.a]\nhost = "x"\ndbname = "d"\nuser = "u"\nport = 99999', "port"),
    ('[targets.a]\nhost = "x"\ndbname = "d"\nuser = "u"\npassword_env = "PGDECK_TEST_UNSET_VAR"',
     "PGDECK_TEST_UNSET_VAR is not set"),
    ('[targets.a]\nhost = "x"\ndbname = "d"\nuser = "u"\ngrants = { query = ["nobody"] }', "no group named"),
    ('[other]\nx = 1', "expected one table 'targets'"),
])
def test_a_bad_file_is_one_line_and_changes_nothing(tmp_path, db, settings, text, message):
    Target.objects.create(name="keep", host="h", dbname="d", user="u", source="file")
    settings.TARGETS_FILE = write(tmp_path, text)
    with pytest.raises(CommandError) as info:
        call_command("load_targets")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert list(Target.objects.values_list("name", flat=True)) == ["keep"]


def test_a_file_cannot_take_over_an_admin_target(tmp_path, db, settings):
    Target.objects.create(name="staging", host="mine", dbname="d", user="u", source="admin")
    settings.TARGETS_FILE = write(tmp_path, '[targets.staging]\nhost = "theirs"\ndbname = "d"\nuser = "u"\n')
    with pytest.raises(CommandError, match="already exists"):
        call_command("load_targets")
    assert Target.objects.get(name="staging").host == "mine"


def test_missing_file_and_startup_log(tmp_path, db, settings, caplog):
    with pytest.raises(CommandError, match="cannot read targets file"):
        call_command("load_targets", file=str(tmp_path / "nope.toml"))
    settings.TARGETS_FILE = str(tmp_path / "nope.toml")
    load_at_startup()
    assert "targets file not loaded: cannot read targets file" in caplog.text
