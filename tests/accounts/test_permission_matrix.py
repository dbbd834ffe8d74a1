"""One table: role × (admin screen | API endpoint) → allowed or denied. Add a row for every new screen/endpoint.

Admin rows log in with a session; API rows use a key holding every scope the role may have, so the role decides
(scope narrowing has its own tests in tests/api/test_auth.py). docs/permissions.md shows the same table.
"""

import re
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import DBTOOLS_PERMISSIONS, ROLE_PERMISSIONS
from accounts.services import api_key_create
from tests.factories import PostFactory

ROLES = ("admin", "operator", "analyst", "viewer")
ALL = ROLES
ADMIN = ("admin",)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"

# (surface, method, url, body, roles allowed). surface "admin": session login; "api": Bearer key.
# {post} and {author} are replaced by the ids of a post and a blog user made for the test.
MATRIX = [
    ("admin", "GET", "/admin/blog/bloguser/", None, ALL),
    ("admin", "GET", "/admin/blog/bloguser/add/", None, ADMIN),
    ("admin", "GET", "/admin/blog/bloguser/{author}/delete/", None, ADMIN),
    ("admin", "GET", "/admin/blog/post/", None, ALL),
    ("admin", "GET", "/admin/blog/post/add/", None, ADMIN),
    ("admin", "GET", "/admin/blog/post/{post}/delete/", None, ADMIN),
    ("admin", "GET", "/admin/accounts/apikey/", None, ALL),
    ("admin", "GET", "/admin/accounts/apikey/add/", None, ALL),
    ("admin", "GET", "/admin/accounts/user/", None, ADMIN),
    ("admin", "GET", "/admin/auth/group/", None, ADMIN),
    ("api", "GET", "/api/v1/me", None, ALL),
    ("api", "GET", "/api/v1/users/", None, ALL),
    ("api", "POST", "/api/v1/users/", {"username": "new-{role}", "email": "{role}@example.com"}, ADMIN),
    ("api", "PATCH", "/api/v1/users/{author}/", {"is_active": False}, ADMIN),
    ("api", "DELETE", "/api/v1/users/{author}/", None, ADMIN),
    ("api", "GET", "/api/v1/posts/", None, ALL),
    ("api", "GET", "/api/v1/posts/{post}/", None, ALL),
    ("api", "POST", "/api/v1/posts/", {"title": "t", "content": "c", "user_id": "{author}"}, ADMIN),
    ("api", "PATCH", "/api/v1/posts/{post}/", {"is_published": True}, ADMIN),
    ("api", "DELETE", "/api/v1/posts/{post}/", None, ADMIN),
]

CASES = [pytest.param(row, role, id=f"{role}-{row[1]}-{row[2]}") for row in MATRIX for role in ROLES]


def fill(value, ids):
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if filled.isdigit() else filled
    return value


def client_for_surface(surface, user):
    if surface == "admin":
        client = Client()
        client.force_login(user)
        return client
    api_key, plaintext = api_key_create(user=user, name="matrix", scopes=None)  # every scope the role allows
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("row,role", CASES)
def test_permission_matrix(make_user, row, role):
    surface, method, url, body, allowed_roles = row
    post = PostFactory()
    ids = {"post": post.id, "author": post.user_id, "role": role}
    user = make_user(role, username=f"{role}-matrix", is_superuser=False)  # the role alone decides
    client = client_for_surface(surface, user)
    kwargs = {"data": fill(body, ids), "format": "json"} if surface == "api" and body else {}
    response = getattr(client, method.lower())(fill(url, ids), **kwargs)
    if role in allowed_roles:
        assert response.status_code in (200, 201, 204), (response.status_code, response.content[:300])
    else:
        assert response.status_code == 403, (response.status_code, response.content[:300])
        if surface == "api":
            assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
@pytest.mark.parametrize("surface,url,status", [("admin", "/admin/blog/post/", 302), ("api", "/api/v1/posts/", 401)])
def test_anonymous_is_sent_to_login_or_gets_401(client, surface, url, status):
    assert client.get(url).status_code == status


def documented_permission_table():
    """{permission: {role: bool}} from the permission table in docs/permissions.md."""
    table = {}
    for line in DOCS.read_text().splitlines():
        match = re.match(r"^\| `(dbtools\.\w+|blog\.\w+)` \|(.+)\|$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")]
            table[match.group(1)] = dict(zip(ROLES, [cell == "yes" for cell in cells[:4]], strict=True))
    return table


def test_docs_show_the_same_role_permissions_as_roles_py():
    documented = documented_permission_table()
    expected_perms = [f"dbtools.{codename}" for codename, _ in DBTOOLS_PERMISSIONS]
    assert set(expected_perms) <= set(documented)
    for perm, by_role in documented.items():
        for role in ROLES:
            granted = ROLE_PERMISSIONS[role] is None or perm in ROLE_PERMISSIONS[role]
            assert by_role[role] == granted, (perm, role)


def test_docs_show_every_matrix_row():
    text = DOCS.read_text()
    for surface, method, url, _body, allowed in MATRIX:
        cells = " | ".join("allowed" if role in allowed else "403" for role in ROLES)
        assert f"| {surface} | {method} `{url}` | {cells} |" in text, url
