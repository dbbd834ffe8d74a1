"""No Docker engine runs here: check the compose file and Dockerfile by reading them."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_db_service_matches_the_seed():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db = compose["services"]["db"]
    assert db["image"] == "postgres:17"
    assert db["environment"] == {"POSTGRES_USER": "pguser", "POSTGRES_PASSWORD": "pgpass", "POSTGRES_DB": "pgadmin"}
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_compose_web_service_waits_for_healthy_db_then_migrates_and_serves():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    assert web["build"] == "."
    assert web["environment"]["DATABASE_URL"] == "postgresql://pguser:pgpass@db:5432/pgadmin"
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    command = " ".join(web["command"])
    assert command.index("migrate") < command.index("gunicorn")
    assert any(v.endswith(":/backups") for v in web["volumes"])
    assert "pgdata" in compose["volumes"] and "backups" in compose["volumes"]


def test_dockerfile_is_slim_non_root_with_pg17_client_and_no_dev_dependencies():
    text = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0].startswith("FROM python:3.11-slim")
    assert "postgresql-client-17" in text
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
    assert "requirements-dev" not in text
    assert "gunicorn" in lines[-1]
    runtime = (ROOT / "requirements.txt").read_text()
    assert "pytest" not in runtime and "playwright" not in runtime
