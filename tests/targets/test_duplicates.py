"""Two targets that are the same database: found by what the servers say (system identifier, database, server
start), not by host names. The app's own database is reached here through a symlink to its socket directory, a
host name no string comparison would match. API create refuses (409 target_duplicate) unless allow_duplicate;
the admin warns; the fleet overview and /metrics count the database once; load_targets warns."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from psycopg.conninfo import conninfo_to_dict

from dbtools.monitoring import fleet
from targets.models import Target
from targets.seam import default_spec
from tests.conftest import legacy_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def alias_host(tmp_path):
    """Another name for the app's own server: a symlink to its socket directory (or the TCP host as given)."""
    spec = default_spec()
    if not spec.host.startswith("/"):
        return "localhost" if spec.host == "127.0.0.1" else spec.host
    link = tmp_path / "same-server"
    link.symlink_to(spec.host)
    return str(link)


@pytest.fixture(autouse=True)
def fresh_probes():
    fleet.forget()
    yield
    fleet.forget()


def body(name, host, dbname=None, **extra):
    spec = default_spec()
    return {"name": name, "host": host, "port": int(spec.port or 5432), "dbname": dbname or spec.dbname,
            "user": spec.user, "password": spec.password, "sslmode": "disable", **extra}


def admin_api(make_user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(make_user('admin', username='root'), ['admin'])}")


def test_api_create_refuses_the_same_database_unless_allowed(make_user, alias_host, scratch_db):
    client = admin_api(make_user)
    refused = client.post("/api/v1/targets", body("again", alias_host), content_type="application/json")
    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert error["code"] == "target_duplicate" and "same database as default" in error["message"]
    assert "\n" not in error["message"] and not Target.objects.exists()

    allowed = client.post("/api/v1/targets", body("again", alias_host, allow_duplicate=True),
                          content_type="application/json")
    assert allowed.status_code == 201 and allowed.json()["duplicate_of"] == ["default"]
    assert Target.objects.get(name="again").identity["database"] == default_spec().dbname

    third = client.post("/api/v1/targets", body("third", alias_host, allow_duplicate=True),
                        content_type="application/json")
    assert third.json()["duplicate_of"] == ["default", "again"]
    listed = {row["name"]: row["duplicate_of"] for row in client.get("/api/v1/targets").json()["results"]}
    assert listed == {"default": ["again", "third"], "again": ["default", "third"], "third": ["default", "again"]}

    # The same server, another database: same system identifier, not the same database.
    other_db = conninfo_to_dict(scratch_db)["dbname"]
    other = client.post("/api/v1/targets", body("other", alias_host, other_db), content_type="application/json")
    assert other.status_code == 201 and other.json()["duplicate_of"] == []
    # Changed to point at the app's database: saved (PATCH does not refuse), and it says so.
    moved = client.patch("/api/v1/targets/other", {"dbname": default_spec().dbname}, content_type="application/json")
    assert moved.status_code == 200 and moved.json()["duplicate_of"] == ["default", "again", "third"]


def test_admin_warns_on_add_and_on_test(client_for, alias_host):
    client = client_for("admin", username="admin")
    data = {**body("mirror", alias_host), "environment": "dev", "notes": "", "sslrootcert": "",
            "grants-TOTAL_FORMS": "0", "grants-INITIAL_FORMS": "0"}
    added = client.post("/admin/targets/target/add/", data, follow=True)
    page = added.content.decode()
    assert added.status_code == 200 and "Target mirror is the same database as default" in page
    assert Target.objects.filter(name="mirror").exists()
    tested = client.post("/admin/targets/target/test/mirror/").content.decode()
    assert 'id="duplicate-warning"' in tested and "same database as default" in tested


def test_fleet_and_metrics_count_the_database_once(make_user, alias_host, settings):
    from targets.services import target_create

    settings.FLEET_DEADLINE_SECONDS = 5
    target_create(name="mirror", **{k: v for k, v in body("mirror", alias_host).items() if k != "name"})
    user = make_user("admin", username="root")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(user, ['admin'])}")
    data = client.get("/api/v1/monitoring/fleet").json()
    rows = {row["target"]: row for row in data["targets"]}
    assert rows["mirror"]["duplicate_of"] == "default" and rows["default"]["duplicate_of"] is None
    assert data["summary"] == {"up": 1, "slow": 0, "down": 0, "duplicates": 1}

    page = Client()
    page.force_login(user)
    html = page.get("/admin/dbtools/monitoring/fleet/").content.decode()
    assert 'data-duplicate-of="default"' in html and "1 duplicate (counted once)" in html

    metrics = client.get("/metrics").content.decode()
    assert 'pgdeck_target_duplicate{of="default",target="mirror"} 1.0' in metrics
    assert 'pgdeck_pg_client_connections{target="mirror"}' not in metrics
    assert 'pgdeck_pg_client_connections{target="default"}' in metrics


def test_load_targets_warns_about_a_duplicate(tmp_path, alias_host, settings):
    spec = default_spec()
    path = tmp_path / "targets.toml"
    path.write_text(f'[targets.fromfile]\nhost = "{alias_host}"\nport = {int(spec.port or 5432)}\n'
                    f'dbname = "{spec.dbname}"\nuser = "{spec.user}"\nsslmode = "disable"\n')
    out = StringIO()
    call_command("load_targets", "--file", str(path), stdout=out)
    assert "warning: target fromfile is the same database as default" in out.getvalue()
    assert Target.objects.get(name="fromfile").identity_checked_at is not None
