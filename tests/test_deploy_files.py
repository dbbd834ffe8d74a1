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


def test_compose_worker_service_runs_the_job_worker_after_migrations():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    worker = compose["services"]["worker"]
    web = compose["services"]["web"]
    command = " ".join(worker["command"])
    assert "migrate --check" in command and command.index("migrate --check") < command.index("manage.py worker")
    assert worker["environment"]["DATABASE_URL"] == web["environment"]["DATABASE_URL"]
    assert worker["environment"]["BACKUP_DIR"] == web["environment"]["BACKUP_DIR"]
    assert set(worker["volumes"]) & set(web["volumes"]), "backups must land where the web app serves them"


def test_make_run_and_serve_start_a_worker_and_stop_it_with_the_server():
    text = (ROOT / "Makefile").read_text()
    for target in ("run", "serve"):
        body = text.split(f"\n{target}: ", 1)[1].split("\n\n", 1)[0]
        assert "manage.py worker &" in body and "trap 'kill -TERM $$worker" in body, target
