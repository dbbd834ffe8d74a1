"""Restores into registered targets: two databases of the embedded server registered as targets `tgta` and
`tgtb` (a backup taken from one restored into the other), a user who may restore only into `tgtb`, and the
PostgreSQL 15 service as a target of another server version. Every refusal is checked to leave the data as it was.
"""

import os
import uuid
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from psycopg import sql

from dbtools.backups import services
from dbtools.backups.tools import create_database, drop_database
from dbtools.models import AuditEvent
from jobs.inline import run_queued
from jobs.models import JobRun
from targets.seam import default_spec
from tests.backups.conftest import SEED_SQL, run_sql, table_counts
from tests.conftest import legacy_api_key
from tests.targets_tools.conftest import PG15, grant, pg15_up, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def backup_dir(settings, tmp_path):
    path = tmp_path / "backups"
    path.mkdir()
    settings.BACKUP_DIR, settings.BACKUP_ENCRYPTION_KEY = path, ""
    return path


@pytest.fixture
def sites(db):
    """tgta: a seeded database (50, 700, 30 rows); tgtb: another with most rows gone (5, 0, 30); same server."""
    spec = default_spec()
    names = [f"targets3_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("a", "b")]
    for name in names:
        create_database(name)
        run_sql(name, SEED_SQL)
    run_sql(names[1], "DELETE FROM articles; DELETE FROM authors WHERE id > 5")
    common = {"host": spec.host, "port": int(spec.port or 5432), "user": spec.user, "password": spec.password,
              "sslmode": "disable"}
    targets = {"tgta": register("tgta", dbname=names[0], environment="production", **common),
               "tgtb": register("tgtb", dbname=names[1], environment="staging", **common)}
    created = []
    yield {"a": names[0], "b": names[1], "targets": targets, "created": created}
    for name in names + created:
        drop_database(name)


@pytest.fixture
def restorer(make_user):
    """An operator who was also given restore_backup, with the `restore` grant on tgtb only."""
    from django.contrib.auth.models import Permission

    user = make_user("operator", username="restorer")
    user.user_permissions.add(Permission.objects.get(codename="restore_backup", content_type__app_label="dbtools"))
    return user


def backup_of(actor, target):
    return services.backup_create(actor=actor, target=target)


def test_admin_form_offers_only_granted_targets_and_restores_a_into_b(sites, restorer, backup_dir, admin_user):
    row = backup_of(admin_user, "tgta")
    grant(sites["targets"]["tgtb"], "operator", "restore")
    client = Client()
    client.force_login(restorer)
    url = f"/admin/dbtools/backups/{row.pk}/restore/"
    page = client.get(url).content.decode()
    assert 'value="tgtb"' in page and 'value="tgta"' not in page and "taken\n     from target <strong>tgta" in page

    forbidden = client.post(url, {"target": "tgta", "confirm": f"tgta/{sites['a']}"})
    assert forbidden.status_code == 200 and "Select a valid choice" in forbidden.content.decode()
    bare = client.post(url, {"target": "tgtb", "confirm": sites["b"]})  # the database alone is not enough here
    assert bare.status_code == 200 and f"written tgtb/{sites['b']}" in bare.content.decode()
    assert not JobRun.objects.filter(kind="restore").exists() and table_counts(sites["b"]) == (5, 0, 30)

    done = client.post(url, {"target": "tgtb", "confirm": f"tgtb/{sites['b']}"})
    run = JobRun.objects.get(kind="restore")
    assert done.status_code == 302 and run.target == f"tgtb/{sites['b']}" and run.backup_id == row.pk
    assert run.params["target"] == "tgtb" and run.params["database"] == sites["b"]
    run_queued()
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert table_counts(sites["b"]) == (50, 700, 30) and table_counts(sites["a"]) == (50, 700, 30)
    event = AuditEvent.objects.filter(action="backup.restore").latest("pk")
    assert event.db_target == "tgtb" and event.details["database"] == sites["b"]
    assert event.details["source_target"] == "tgta" and event.details["result"] == "success"


def test_restore_lock_is_the_targets_database_lock(sites, admin_user, backup_dir):
    """A restore and a backup of the same registered database share one lock; the live database's is another."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    from dbtools.backups import jobs

    row = backup_of(admin_user, "tgta")
    run = jobs.restore_start(row, actor=admin_user, target=sites["b"], db_target="tgtb")
    backup = jobs.backup_start(actor=admin_user, target="tgtb")
    locks = dict(ProcrastinateJob.objects.filter(id__in=[run.queue_job_id, backup.jobrun.queue_job_id])
                 .values_list("id", "lock"))
    assert locks[run.queue_job_id] == locks[backup.jobrun.queue_job_id] == f"database:tgtb/{sites['b']}"


def test_api_restore_into_a_target(sites, restorer, admin_user, backup_dir):
    row = backup_of(admin_user, "tgta")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(restorer, ['admin'])}")
    url = f"/api/v1/backups/{row.pk}/restore"
    body = {"target": "tgtb", "confirm": f"tgtb/{sites['b']}"}
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "target_forbidden"
    grant(sites["targets"]["tgtb"], "operator", "restore")
    wrong = client.post(url, {**body, "confirm": sites["b"]}, content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "confirmation_mismatch"
    assert not JobRun.objects.filter(kind="restore").exists()

    limited = Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(restorer, ['admin'], name='only-a')}")
    from accounts.models import ApiKey

    ApiKey.objects.filter(name="only-a").update(targets=["tgta"])
    other = limited.post(url, body, content_type="application/json")
    assert other.status_code == 403 and other.json()["error"]["code"] == "target_forbidden"

    queued = client.post(url, body, content_type="application/json")
    assert queued.status_code == 202, queued.content
    assert queued.json()["target"] == f"tgtb/{sites['b']}" and queued.json()["kind"] == "restore"
    run_queued()
    assert JobRun.objects.get(kind="restore").status == "succeeded"
    assert table_counts(sites["b"]) == (50, 700, 30)

    missing = client.post(url, {"target": "nope", "confirm": "nope/x"}, content_type="application/json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "target_not_found"


def test_dbrestore_target_new_database_and_refusals(sites, restorer, admin_user, backup_dir):
    row = backup_of(admin_user, "tgta")
    fresh = f"targets3_new_{uuid.uuid4().hex[:8]}"
    sites["created"].append(fresh)
    with pytest.raises(CommandError, match="may not use target 'tgtb' for restore"):
        call_command("dbrestore", row.file, "--target", "tgtb", "--target-db", fresh, "--create", "--user",
                     "restorer", stdout=StringIO())
    with pytest.raises(CommandError, match=f"restoring over tgtb/{sites['b']} replaces its data: confirm"):
        call_command("dbrestore", row.file, "--target", "tgtb", stdout=StringIO())
    with pytest.raises(CommandError, match="no target named 'gone'"):
        call_command("dbrestore", row.file, "--target", "gone", "--yes", stdout=StringIO())
    assert table_counts(sites["b"]) == (5, 0, 30) and not JobRun.objects.filter(kind="restore").exists()

    out = StringIO()
    call_command("dbrestore", row.file, "--target", "tgtb", "--target-db", fresh, "--create", stdout=out)
    assert f"into database tgtb/{fresh}" in out.getvalue()
    assert table_counts(fresh) == (50, 700, 30)
    run = JobRun.objects.get(kind="restore")
    assert run.target == f"tgtb/{fresh}" and run.result == {"database": fresh, "target": "tgtb"}


def test_a_target_that_is_the_live_database_is_refused(admin_user, backup_dir, sites):
    """Registered under another name, the app's own database would skip the live database's guards."""
    spec = default_spec()
    register("alias", host=spec.host, port=int(spec.port or 5432), dbname=spec.dbname, user=spec.user,
             password=spec.password, sslmode="disable")
    row = backup_of(admin_user, "tgta")
    with pytest.raises(CommandError, match="is the app's own live database"):
        call_command("dbrestore", row.file, "--target", "alias", "--yes", stdout=StringIO())
    assert not JobRun.objects.filter(kind="restore").exists()


@pytest.fixture
def pg15_site(db):
    if not pg15_up():
        pytest.skip("no PostgreSQL service at 127.0.0.1:5432")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    name = f"targets3_pg15_{worker}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(**PG15, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    created = [name]
    yield {"target": register("pg15r", host=PG15["host"], port=PG15["port"], dbname=name, user="postgres",
                              sslmode="disable"), "dbname": name, "created": created}
    with psycopg.connect(**PG15, dbname="postgres", autocommit=True) as conn:
        for each in created:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(each)))


def test_pg15_backup_restores_into_the_pg18_target_not_the_other_way(pg15_site, sites, admin_user, backup_dir):
    """Tools are picked for the destination server and the dump's pg_dump: 15 → 18 with pg_restore 18. A dump
    of PostgreSQL 18 cannot go into the 15 server (pg_restore 18 sends it transaction_timeout, which 15 does not
    know): refused when queued, one line, nothing created."""
    with psycopg.connect(**PG15, dbname=pg15_site["dbname"], autocommit=True) as conn:
        conn.execute(SEED_SQL)
    row = backup_of(admin_user, "pg15r")
    assert row.snapshot["server_version_num"] // 10000 == 15 and row.snapshot["pg_dump_major"] == 15
    call_command("dbrestore", row.file, "--target", "tgtb", "--yes", stdout=StringIO())
    assert table_counts(sites["b"]) == (50, 700, 30)
    assert JobRun.objects.get(kind="restore").status == "succeeded"

    from_18 = backup_of(admin_user, "tgta")
    if from_18.snapshot["pg_dump_major"] <= 15:
        return  # the app's own server is the 15 one (make test-pg15): no newer dump to refuse
    fresh = f"targets3_pg15new_{uuid.uuid4().hex[:6]}"
    pg15_site["created"].append(fresh)
    with pytest.raises(CommandError, match="written by pg_dump 18; the server of target pg15r runs PostgreSQL 15"):
        call_command("dbrestore", from_18.file, "--target", "pg15r", "--target-db", fresh, "--create",
                     stdout=StringIO())
    with psycopg.connect(**PG15, dbname="postgres") as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [fresh]).fetchone() == (0,)
    assert JobRun.objects.filter(kind="restore").count() == 1


def test_target_deleted_while_its_restore_is_queued_fails_the_job_in_one_line(sites, admin_user, backup_dir):
    from dbtools.backups import jobs

    row = backup_of(admin_user, "tgta")
    run = jobs.restore_start(row, actor=admin_user, target=sites["b"], db_target="tgtb")
    sites["targets"]["tgtb"].delete()
    run_queued()
    run.refresh_from_db()
    assert run.status == "failed" and run.error == "no target named 'tgtb'"
    assert table_counts(sites["b"]) == (5, 0, 30)


def test_a_target_credential_without_createrole_is_refused_when_queued(sites, admin_user, backup_dir):
    """The restore makes its role and a scratch database on the target's server: a credential that may not is a
    403 target_privileges at once (not a failed job later), and nothing is created."""
    spec = default_spec()
    weak = f"targets3_weak_{uuid.uuid4().hex[:6]}"
    run_sql("postgres", sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'weak-pw'").format(sql.Identifier(weak)))
    try:
        register("weak", host=spec.host, port=int(spec.port or 5432), dbname=sites["b"], user=weak,
                 password="weak-pw", sslmode="disable")
        row = backup_of(admin_user, "tgta")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(admin_user, ['admin'])}")
        response = client.post(f"/api/v1/backups/{row.pk}/restore", {"target": "weak", "confirm": f"weak/{sites['b']}"},
                               content_type="application/json")
        assert response.status_code == 403, response.content
        error = response.json()["error"]
        assert error["code"] == "target_privileges" and f"user '{weak}'" in error["message"]
        assert "lacks CREATEROLE and CREATEDB" in error["message"] and "\n" not in error["message"]
        assert not JobRun.objects.filter(kind="restore").exists() and table_counts(sites["b"]) == (5, 0, 30)
    finally:
        run_sql("postgres", sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(weak)))
