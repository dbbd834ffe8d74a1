import time

from django.conf import settings


def test_healthz_ok_when_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"


def test_healthz_says_unreachable_within_two_seconds(client, monkeypatch):
    monkeypatch.setitem(settings.DATABASES["default"], "HOST", "127.0.0.1")
    monkeypatch.setitem(settings.DATABASES["default"], "PORT", "1")
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "unreachable" and "refused" in body["reason"].lower()


def test_api_health_needs_no_key(client, db):
    response = client.get("/api/v1/health")
    assert response.status_code == 200 and response.json()["database"] == "ok"
