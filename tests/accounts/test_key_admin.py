"""The API key admin: create shows the key once, revoke is irreversible, users see only their own keys."""

import re

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services import api_key_create
from dbtools.models import AuditEvent

pytestmark = pytest.mark.django_db
ADD = "/admin/accounts/apikey/add/"
LIST = "/admin/accounts/apikey/"
KEY_RE = re.compile(r"pgd_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}")


def create(client, **data):
    data.setdefault("name", "script")
    data.setdefault("scopes", ["read"])
    data.setdefault("expires_in", "30d")
    return client.post(ADD, data, follow=True)


def test_admin_creates_a_key_and_sees_it_exactly_once(client_for):
    client = client_for("admin", username="root")
    response = create(client, user=client.get(ADD).context["adminform"].form.fields["user"].initial)
    shown = KEY_RE.findall(response.content.decode())
    assert len(shown) == 1
    api_key = ApiKey.objects.get()
    assert shown[0].startswith(f"pgd_{api_key.prefix}_") and api_key.scopes == ["read"]
    assert not KEY_RE.search(client.get(LIST).content.decode())  # not on the next page
    assert not KEY_RE.search(client.get(f"{LIST}{api_key.pk}/change/").content.decode())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {shown[0]}")
    assert api.get("/api/v1/me").json()["username"] == "root"


def test_changelist_columns(client_for, make_user):
    client = client_for("admin", username="root")
    api_key_create(user=make_user("operator", username="op"), name="deploy", scopes=["operate", "read"])
    html = client.get(LIST).content.decode()
    for text in ("pgd_", "deploy", "op", "operate, read", "active", "column-expires", "column-used", "never"):
        assert text in html


def test_scopes_offered_follow_the_role(client_for):
    client = client_for("analyst", username="ana")
    form = client.get(ADD).context["adminform"].form
    assert [value for value, _label in form.fields["scopes"].choices] == ["read", "query", "monitor"]
    assert "user" not in form.fields  # a non-admin's keys are always their own


@pytest.mark.parametrize("data,field", [
    ({"scopes": ["write"]}, "scopes"),
    ({"scopes": []}, "scopes"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"expires_in": "forever"}, "expires_in"),
])
def test_bad_add_form_shows_errors_and_creates_nothing(client_for, data, field):
    client = client_for("viewer", username="vi")
    response = create(client, **data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert ApiKey.objects.count() == 0


def test_admin_cannot_give_a_key_more_than_its_owners_role(client_for, make_user):
    client = client_for("admin", username="root")
    viewer = make_user("viewer", username="vi")
    response = create(client, user=viewer.pk, scopes=["read", "write"])
    assert "go beyond the viewer role" in str(response.context["adminform"].form.errors["scopes"])
    assert ApiKey.objects.count() == 0


def test_users_see_and_revoke_only_their_own_keys(client_for, make_user):
    client = client_for("operator", username="op")
    mine, _ = api_key_create(user=make_user("operator", username="op"), name="mine", scopes=["read"])
    theirs, _ = api_key_create(user=make_user("viewer", username="vi"), name="theirs", scopes=["read"])
    html = client.get(LIST).content.decode()
    assert mine.prefix in html and theirs.prefix not in html
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code == 302  # "doesn't exist" redirect
    client.post(LIST, {"action": "revoke_keys", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_revoke_action_is_irreversible_and_audited(client_for, make_user):
    client = client_for("admin", username="root")
    api_key, plaintext = api_key_create(user=make_user("viewer", username="vi"), name="k", scopes=["read"])
    response = client.post(LIST, {"action": "revoke_keys", "_selected_action": [api_key.pk]}, follow=True)
    assert "Revoked 1 API key(s)" in response.content.decode()
    api_key.refresh_from_db()
    first = api_key.revoked_at
    client.post(LIST, {"action": "revoke_keys", "_selected_action": [api_key.pk]})
    api_key.refresh_from_db()
    assert api_key.revoked_at == first
    assert AuditEvent.objects.filter(action="api_key.revoke", target=f"pgd_{api_key.prefix}").count() == 1
    assert "revoked" in client.get(f"{LIST}?status=revoked").content.decode()


def test_keys_cannot_be_edited_or_deleted(client_for, make_user):
    client = client_for("admin", username="root")
    api_key, _ = api_key_create(user=make_user("viewer", username="vi"), name="k", scopes=["read"])
    page = client.get(f"{LIST}{api_key.pk}/change/")
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()
    assert api_key.key_hash not in page.content.decode()
    client.post(f"{LIST}{api_key.pk}/change/", {"name": "renamed", "scopes": ["admin"]})
    assert client.post(f"{LIST}{api_key.pk}/delete/", {"post": "yes"}).status_code == 403
    api_key.refresh_from_db()
    assert api_key.name == "k" and api_key.scopes == ["read"]


def test_a_non_admin_cannot_create_a_key_for_someone_else(client_for, make_user):
    other = make_user("admin", username="boss")
    client = client_for("operator", username="op")
    create(client, user=other.pk, scopes=["read"])
    assert ApiKey.objects.get().user.username == "op"


def test_revoke_button_confirms_then_revokes_own_keys_only(client_for, make_user):
    client = client_for("analyst", username="ana")
    mine, _ = api_key_create(user=make_user("analyst", username="ana"), name="mine", scopes=["read"])
    theirs, _ = api_key_create(user=make_user("viewer", username="vi"), name="<b>theirs</b>", scopes=["read"])
    detail = client.get(f"{LIST}{mine.pk}/change/").content.decode()
    assert f"{LIST}{mine.pk}/revoke/" in detail
    confirm = client.get(f"{LIST}{mine.pk}/revoke/")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    mine.refresh_from_db()
    assert mine.revoked_at is None  # a GET only asks
    response = client.post(f"{LIST}{mine.pk}/revoke/", follow=True)
    assert "Revoked pgd_" in response.content.decode()
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert f"{LIST}{mine.pk}/revoke/" not in client.get(f"{LIST}{mine.pk}/change/").content.decode()
    assert client.post(f"{LIST}{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_key_names_are_escaped(client_for, make_user):
    client = client_for("admin", username="root")
    api_key, _ = api_key_create(user=make_user("viewer", username="vi"), name="<script>x</script>", scopes=["read"])
    for url in (LIST, f"{LIST}{api_key.pk}/change/", f"{LIST}{api_key.pk}/revoke/"):
        html = client.get(url).content.decode()
        assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html, url


def test_created_message_escapes_the_name(client_for):
    client = client_for("viewer", username="vi")
    html = create(client, name="<i>n</i>").content.decode()
    assert "&lt;i&gt;n&lt;/i&gt;" in html and "<i>n</i>" not in html
    assert len(KEY_RE.findall(html)) == 1
