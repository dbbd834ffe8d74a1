"""A target whose credential lacks privileges for what a page or endpoint reads: a login role with nothing but
LOGIN on a database of the embedded server (no pg_monitor, no SELECT on alembic_version). Every monitoring screen
and API endpoint answers with its page or a clear 403 naming the missing privilege, never a 500 or a stall; the
Alembic state is a 403 `target_privileges` exactly; the fleet row is up (its probe reads only what any login may)."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from psycopg import sql

from dbtools.backups.tools import create_database, drop_database
from dbtools.monitoring import fleet
from dbtools.monitoring.admin_views import SCREENS
from targets.seam import default_spec
from tests.backups.conftest import run_sql
from tests.conftest import legacy_api_key
from tests.targets_tools.conftest import register

pytestmark = pytest.mark.django_db
API = ["overview", "activity", "locks", "tables", "indexes", "checks", "query-stats"]


@pytest.fixture
def weak(db):
    spec = default_spec()
    dbname, role = f"targets3_weakdb_{uuid.uuid4().hex[:6]}", f"targets3_weak_{uuid.uuid4().hex[:6]}"
    create_database(dbname)
    run_sql(dbname, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); "
                    "INSERT INTO alembic_version VALUES ('abc123'); CREATE TABLE items (id int PRIMARY KEY)")
    run_sql("postgres", sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'weak-pw'").format(sql.Identifier(role)))
    register("weak", host=spec.host, port=int(spec.port or 5432), dbname=dbname, user=role, password="weak-pw",
             sslmode="disable")
    fleet.forget()
    yield role
    fleet.forget()
    drop_database(dbname)
    run_sql("postgres", sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_every_page_and_endpoint_answers_without_a_500(make_user, weak):
    admin = make_user("admin", username="root")
    page_client, api = Client(), Client(HTTP_AUTHORIZATION=f"Bearer {legacy_api_key(admin, ['admin'])}")
    page_client.force_login(admin)
    refused = []
    for url_name, _label in SCREENS:
        page = page_client.get(reverse(f"admin:{url_name}") + "?target=weak")
        assert page.status_code in (200, 403), (url_name, page.status_code)
        if page.status_code == 403:
            refused.append(url_name)
            assert "lacks a privilege" in page.context["query_error"] and "\n" not in page.context["query_error"]
    for name in API:
        response = api.get(f"/api/v1/monitoring/{name}?target=weak")
        assert response.status_code in (200, 403), (name, response.status_code, response.content[:200])
        if response.status_code == 403:
            assert response.json()["error"]["code"] == "target_privileges"

    assert "dbtools_monitoring_query_stats" in refused  # pg_stat_statements' view: refused to a bare login
    alembic = api.get("/api/v1/migrations/alembic?target=weak")
    assert alembic.status_code == 403 and alembic.json()["error"]["code"] == "target_privileges"
    assert "alembic_version" in alembic.json()["error"]["message"]
    page = page_client.get("/admin/dbtools/migrations/?target=weak")
    assert page.status_code == 200 and "alembic_version" in page.content.decode()

    row = {r["target"]: r for r in api.get("/api/v1/monitoring/fleet").json()["targets"]}["weak"]
    assert row["status"] in ("up", "slow") and row["version"]
