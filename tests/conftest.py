import pytest
from django.test import Client

from tests.factories import UserFactory

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def make_user(db):
    """make_user("analyst") → a staff user of that role with password PASSWORD."""

    def make(role="viewer", **kwargs):
        kwargs.setdefault("username", f"{role}-user")
        if role == "admin":
            kwargs.setdefault("is_superuser", True)
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", username="admin")


@pytest.fixture
def client_for(make_user):
    """client_for("operator") → a Django test Client logged in as a user of that role."""

    def make(role="viewer", **kwargs):
        client = Client()
        client.force_login(make_user(role, **kwargs))
        return client

    return make
