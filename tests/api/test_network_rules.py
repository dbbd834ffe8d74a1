"""Database firewall rules: API keys and roles bound to networks, the client address read only as far as the
configured proxies vouch for it, refusals as a 403 with a code (or a login error) and an audit event."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiKey
from dbtools.models import AuditEvent
from tests.api.conftest import error_of
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
INSIDE, OUTSIDE, PROXY = "10.1.2.3", "192.0.2.9", "127.0.0.1"


def key_client(plaintext, **meta):
    client = APIClient(**meta)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def bound_key(key_for):
    api_key, plaintext = key_for("viewer", scopes=["read", "monitor"], allowed_networks=["10.1.0.0/16"])
    return api_key, plaintext


def refused_events():
    return AuditEvent.objects.filter(action="network.refused")


def test_a_bound_key_works_from_its_network(bound_key):
    _key, plaintext = bound_key
    assert key_client(plaintext, REMOTE_ADDR=INSIDE).get("/api/v1/me").status_code == 200
    assert not refused_events().exists()


def test_a_bound_key_from_elsewhere_is_a_403_with_a_code_and_audited(bound_key):
    api_key, plaintext = bound_key
    response = key_client(plaintext, REMOTE_ADDR=OUTSIDE).get("/api/v1/me")
    assert response.status_code == 403 and error_of(response)["code"] == "network_not_allowed"
    assert OUTSIDE in error_of(response)["message"]
    event = refused_events().get()
    assert event.ip == OUTSIDE and event.target == f"pgd_{api_key.prefix}"
    assert event.details["surface"] == "api_key" and event.actor_name == "viewer-keyholder"
    # /metrics reads keys too: a refusal there is a 403, not a 500
    assert key_client(plaintext, REMOTE_ADDR=OUTSIDE).get("/metrics").status_code == 403


def test_a_spoofed_forwarded_for_is_ignored_without_proxies(bound_key, settings):
    settings.PROXY_COUNT = 0
    _key, plaintext = bound_key
    spoofed = key_client(plaintext, REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR=INSIDE).get("/api/v1/me")
    assert spoofed.status_code == 403 and error_of(spoofed)["code"] == "network_not_allowed"
    assert refused_events().get().ip == OUTSIDE  # the audit trail records the socket's address, not the header
    garbage = key_client(plaintext, REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="not-an-ip").get("/api/v1/me")
    assert garbage.status_code == 403


def test_one_proxy_is_believed_for_exactly_one_hop(bound_key, settings):
    settings.PROXY_COUNT = 1
    _key, plaintext = bound_key
    through_proxy = key_client(plaintext, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=INSIDE)
    assert through_proxy.get("/api/v1/me").status_code == 200
    # The client wrote the first entry itself; our proxy appended the address it really saw.
    spoofed = key_client(plaintext, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{INSIDE}, {OUTSIDE}")
    assert spoofed.get("/api/v1/me").status_code == 403
    assert refused_events().get().ip == OUTSIDE


def test_a_roles_networks_bind_its_keys(key_for, settings):
    settings.ROLE_ALLOWED_NETWORKS = {"admin": ["10.0.0.0/8"]}
    _admin_key, admin_plaintext = key_for("admin", scopes=["read"])
    _viewer_key, viewer_plaintext = key_for("viewer", scopes=["read"])
    refused = key_client(admin_plaintext, REMOTE_ADDR=OUTSIDE).get("/api/v1/me")
    assert refused.status_code == 403 and error_of(refused)["code"] == "network_not_allowed"
    assert key_client(admin_plaintext, REMOTE_ADDR=INSIDE).get("/api/v1/me").status_code == 200
    assert key_client(viewer_plaintext, REMOTE_ADDR=OUTSIDE).get("/api/v1/me").status_code == 200


def test_an_admin_login_from_elsewhere_is_refused_with_a_form_error(make_user, settings):
    settings.ROLE_ALLOWED_NETWORKS = {"admin": ["10.0.0.0/8"]}
    make_user("admin", username="boss")
    outside = Client(REMOTE_ADDR=OUTSIDE)
    response = outside.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert response.status_code == 200
    assert "may not be used from 192.0.2.9" in " ".join(response.context["form"].non_field_errors())
    assert "_auth_user_id" not in outside.session
    event = refused_events().get()
    assert event.details["surface"] == "admin_login" and event.actor_name == "boss" and event.ip == OUTSIDE
    inside = Client(REMOTE_ADDR="10.9.9.9")
    assert inside.post("/admin/login/", {"username": "boss", "password": PASSWORD}).status_code == 302
    assert inside.get("/admin/").status_code == 200


def test_a_session_carried_to_another_network_is_refused_and_logged_out(make_user, settings):
    settings.ROLE_ALLOWED_NETWORKS = {"admin": ["10.0.0.0/8"]}
    client = Client(REMOTE_ADDR="10.9.9.9")
    client.force_login(make_user("admin", username="boss"))
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/", REMOTE_ADDR=OUTSIDE)
    assert page.status_code == 403 and "may not be used from 192.0.2.9" in page.content.decode()
    assert client.get("/admin/").status_code == 302  # logged out, even back on the allowed network
    client.force_login(make_user("admin", username="boss"))
    api = client.get("/api/v1/me", REMOTE_ADDR=OUTSIDE)
    assert api.status_code == 403 and error_of(api)["code"] == "network_not_allowed"


def test_a_flood_of_refusals_writes_one_counted_row(bound_key):
    _key, plaintext = bound_key
    client = key_client(plaintext, REMOTE_ADDR=OUTSIDE)
    assert {client.get("/api/v1/me").status_code for _ in range(25)} == {403}
    assert refused_events().get().details["count"] == 25


@pytest.mark.parametrize("networks", [["10.0.0.0/33"], ["example.com"], ["10.0.0.1/8", ""], [""]])
def test_bad_networks_are_refused_by_the_admin_form_and_create_nothing(client_for, networks):
    client = client_for("viewer", username="vi")
    response = client.post("/admin/accounts/apikey/add/", {"name": "script", "scopes": ["read"], "expires_in": "30d",
                                                           "allowed_networks": "\n".join(networks) + "\nbogus"})
    assert response.status_code == 200
    assert "is not an IP network" in str(response.context["adminform"].form.errors["allowed_networks"])
    assert ApiKey.objects.count() == 0


def test_the_admin_form_binds_a_key(client_for):
    client = client_for("viewer", username="vi")
    client.post("/admin/accounts/apikey/add/", {"name": "script", "scopes": ["read"], "expires_in": "30d",
                                                "allowed_networks": "10.1.0.0/16, 2001:db8::1"})
    assert ApiKey.objects.get().allowed_networks == ["10.1.0.0/16", "2001:db8::1/128"]


def test_create_api_key_command_binds_a_key_and_refuses_a_bad_network(make_user):
    make_user("viewer", username="vi")
    with pytest.raises(CommandError) as raised:
        call_command("create_api_key", "--user", "vi", "--name", "k", "--allowed-networks", "10.0.0.0/8,nope",
                     stdout=StringIO(), stderr=StringIO())
    assert "'nope' is not an IP network" in str(raised.value) and "\n" not in str(raised.value)
    assert ApiKey.objects.count() == 0
    out = StringIO()
    call_command("create_api_key", "--user", "vi", "--name", "k", "--allowed-networks", "10.1.0.0/16",
                 stdout=out, stderr=StringIO())
    assert ApiKey.objects.get().allowed_networks == ["10.1.0.0/16"]
    assert key_client(out.getvalue().strip(), REMOTE_ADDR=OUTSIDE).get("/api/v1/me").status_code == 403


def test_a_bad_role_network_stops_the_server_with_one_line():
    from tests.test_config_errors import assert_one_line_error, manage

    result = manage("check", env={"ADMIN_ALLOWED_NETWORKS": "10.0.0.0/8,bogus"})
    assert_one_line_error(result, "ADMIN_ALLOWED_NETWORKS", "'bogus' is not an IP network")


def _login(client, username, password, **extra):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, **extra)


def test_login_lockout_follows_the_client_behind_a_trusted_proxy(make_user, settings):
    settings.PROXY_COUNT = 1
    make_user("viewer", username="alice")
    proxy = Client(REMOTE_ADDR=PROXY)
    for _ in range(5):
        _login(proxy, "alice", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert _login(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    # another client behind the same proxy is not locked out with the attacker
    assert _login(Client(REMOTE_ADDR=PROXY), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 302


def test_login_lockout_ignores_a_spoofed_forwarded_for_without_proxies(make_user, settings):
    settings.PROXY_COUNT = 0
    make_user("viewer", username="alice")
    attacker = Client(REMOTE_ADDR=OUTSIDE)
    for n in range(5):
        _login(attacker, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert _login(attacker, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
