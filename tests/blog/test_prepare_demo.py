"""`make run`'s set-up (manage.py prepare_demo): everything in one process, a no-op the second time, and
pg_stat_statements created so Query stats works at once (issue 18)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.models import User
from blog.models import BlogUser, Post


def prepare():
    out, err = io.StringIO(), io.StringIO()
    call_command("prepare_demo", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def extension_installed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")
        return cursor.fetchone()[0] == 1


@pytest.mark.django_db(transaction=True)
def test_prepare_demo_sets_everything_up_once_and_then_changes_nothing():
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION IF EXISTS pg_stat_statements")
    out, err = prepare()
    assert extension_installed()
    assert User.objects.filter(username="admin", is_superuser=True).exists()
    assert (BlogUser.objects.count(), Post.objects.count()) == (200, 2000)
    assert "Demo admin created" in out and "least-privilege" in out
    out, err = prepare()
    assert extension_installed()
    assert (BlogUser.objects.count(), Post.objects.count()) == (200, 2000)
    assert "Demo data already present" in out and "exists; password unchanged" in out


@pytest.mark.django_db(transaction=True)
def test_query_stats_works_after_prepare_demo(client_for):
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION IF EXISTS pg_stat_statements")
    client = client_for("admin")
    url = reverse("admin:dbtools_monitoring_query_stats")
    assert b"pg_stat_statements is not installed" in client.get(url).content
    prepare()
    page = client.get(url)
    assert page.status_code == 200
    assert b"pg_stat_statements is not installed" not in page.content
