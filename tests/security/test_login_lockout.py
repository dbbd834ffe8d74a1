from django.test import Client

from tests.conftest import PASSWORD


def _login(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_five_failures_lock_the_username_for_that_address(make_user):
    user = make_user("admin", username="alice")
    client = Client(REMOTE_ADDR="10.9.8.7")
    for _ in range(5):
        response = _login(client, "alice", "wrong")
        assert response.status_code in (200, 429)
    response = _login(client, "alice", PASSWORD)  # even the right password is refused now
    assert response.status_code == 429
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.is_active  # nothing about the account itself changed


def test_lockout_is_per_username_and_address(make_user):
    make_user("admin", username="alice")
    make_user("viewer", username="bob")
    attacker = Client(REMOTE_ADDR="10.9.8.7")
    for _ in range(5):
        _login(attacker, "alice", "wrong")
    assert _login(Client(REMOTE_ADDR="10.1.1.1"), "alice", PASSWORD).status_code == 302
    assert _login(attacker, "bob", PASSWORD).status_code == 302


def test_api_session_login_is_locked_too(make_user):
    make_user("admin", username="carol")
    client = Client(REMOTE_ADDR="10.9.8.8")
    for _ in range(5):
        client.post("/api/auth/login/", {"username": "carol", "password": "wrong"})
    response = client.post("/api/auth/login/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 429
