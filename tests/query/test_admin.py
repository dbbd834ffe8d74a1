import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dbtools.models import AuditEvent, QueryHistory, SavedQuery
from dbtools.query.roles import user_role_patterns
from tests.factories import PostFactory

URL = "/admin/dbtools/query/"


def superuser_url():
    db = connection.settings_dict
    host = db["HOST"]
    if host.startswith("/"):
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={host}&port={db['PORT']}"
    return f"postgresql://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def test_page_needs_run_query(client_for, transactional_db):
    assert client_for("viewer").get(URL).status_code == 403
    assert client_for("operator").get(URL).status_code == 403


def test_page_shows_editor_and_schema_browser_without_inline_script(analyst_client, blog_rows):
    response = analyst_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-insert="posts"' in html and 'data-insert="user_id"' in html
    assert "django_session" not in html and "accounts_user" not in html  # private tables are not even listed
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)


def test_run_renders_escaped_results_with_null_marker(analyst_client, transactional_db):
    response = analyst_client.post(URL, {"sql": "SELECT '<script>alert(1)</script>' AS x, NULL AS y",
                                         "action": "run"})
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert '<td class="null">NULL</td>' in html
    assert QueryHistory.objects.get().status == "success"


def test_error_shows_message_and_position(analyst_client, transactional_db):
    response = analyst_client.post(URL, {"sql": "SELECT 1 FROM nowhere_<b>", "action": "run"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="query-error" data-position="' in html
    assert "relation" in html or "syntax" in html
    assert "<b>" not in html.split('id="query-error"')[1].split("</div>")[0]


def test_explain_renders_plan_rows(analyst_client, blog_rows):
    response = analyst_client.post(URL, {"sql": "SELECT * FROM posts JOIN users ON users.id = posts.user_id",
                                         "action": "explain_analyze"})
    html = response.content.decode()
    assert 'class="plan"' in html and "Join" in html and 'class="hot"' in html
    assert PostFactory._meta.model.objects.count() == 3


def test_analyst_gets_no_write_toggle_and_cannot_write(analyst_client, blog_rows):
    response = analyst_client.get(URL)
    assert b'name="write_mode"' not in response.content
    analyst_client.post(URL, {"sql": "DELETE FROM posts", "action": "run", "write_mode": "on",
                              "confirm_write": "on"})
    assert PostFactory._meta.model.objects.count() == 3


def test_write_mode_needs_confirmation_then_commits_and_audits(client_for, blog_rows):
    client = client_for("admin", username="boss")
    response = client.post(URL, {"sql": "DELETE FROM posts", "action": "run", "write_mode": "on"})
    assert b"Tick the confirmation" in response.content
    assert PostFactory._meta.model.objects.count() == 3
    response = client.post(URL, {"sql": "DELETE FROM posts", "action": "run", "write_mode": "on",
                                 "confirm_write": "on"})
    assert b"committed" in response.content
    assert PostFactory._meta.model.objects.count() == 0
    assert AuditEvent.objects.filter(action="query.write").count() == 1


def test_export_from_the_page_streams_a_file(analyst_client, blog_rows):
    response = analyst_client.post(URL, {"sql": "SELECT id FROM posts", "action": "export_csv"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert b"".join(response.streaming_content).decode().splitlines()[0] == "id"
    bad = analyst_client.post(URL, {"sql": "SELECT nope", "action": "export_json"})
    assert not bad.streaming and b'id="query-error"' in bad.content


def test_save_then_open_and_run_with_parameters(analyst_client, blog_rows):
    sql = "SELECT title FROM posts WHERE id = :post_id"
    response = analyst_client.post(URL, {"sql": sql, "action": "save", "save_name": "one post"})
    saved = SavedQuery.objects.get()
    assert response.status_code == 302 and f"saved={saved.pk}" in response["Location"]
    page = analyst_client.get(response["Location"]).content.decode()
    assert 'name="param_post_id"' in page and "one post" in page
    missing = analyst_client.post(URL, {"sql": sql, "action": "run", "saved_id": saved.pk})
    assert b"Fill in this parameter" in missing.content
    ran = analyst_client.post(URL, {"sql": sql, "action": "run", "saved_id": saved.pk,
                                    "param_post_id": str(blog_rows[1].id)})
    assert blog_rows[1].title.encode() in ran.content
    saved.refresh_from_db()
    assert saved.run_count == 1 and saved.last_run_at is not None


def test_save_without_name_is_a_form_error(analyst_client, transactional_db):
    response = analyst_client.post(URL, {"sql": "SELECT 1", "action": "save"})
    assert b"needs a name" in response.content and not SavedQuery.objects.exists()


def test_history_changelist_shows_own_rows_and_opens_in_editor(analyst_client, analyst, make_user,
                                                              transactional_db):
    other = make_user("analyst", username="someone-else")
    QueryHistory.objects.create(user=other, query="SELECT 'theirs'", status="success")
    mine = QueryHistory.objects.create(user=analyst, query="SELECT 'mine'", status="error")
    html = analyst_client.get("/admin/dbtools/queryhistory/?status__exact=error").content.decode()
    assert "SELECT &#x27;mine&#x27;" in html and "theirs" not in html
    assert f"/admin/dbtools/query/?history={mine.pk}" in html
    editor = analyst_client.get(f"{URL}?history={mine.pk}").content.decode()
    assert "SELECT &#x27;mine&#x27;</textarea>" in editor
    assert analyst_client.get(f"{URL}?history={mine.pk + 100}").status_code == 200


def test_cancel_endpoint_without_a_running_query_is_404(analyst_client, transactional_db):
    response = analyst_client.post(f"{URL}cancel/", {"token": "nope"}, content_type="application/json")
    assert response.status_code == 404


def test_superuser_connection_is_refused_with_setup_help(analyst_client, settings, transactional_db):
    settings.QUERY_DATABASE_URL = superuser_url()
    response = analyst_client.post(URL, {"sql": "SELECT 1", "action": "run"})
    assert b"Refusing to run user SQL" in response.content and b"setup_query_role" in response.content
    assert QueryHistory.objects.get().status == "error"
    with pytest.raises(CommandError, match="Refusing to run user SQL"):
        call_command("setup_query_role", "--check")


def test_setup_query_role_is_idempotent_and_least_privilege(transactional_db, capsys, settings):
    call_command("setup_query_role")
    call_command("setup_query_role")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles "
                       "WHERE rolname LIKE 'pgdeck_query%%' AND rolname NOT LIKE ALL(%s) ORDER BY 1",
                       [user_role_patterns()])
        assert cursor.fetchall() == [("pgdeck_query", False, False, False, True),
                                     ("pgdeck_query_write", False, False, False, True)]
        cursor.execute("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                       "WHERE r.rolname IN ('pgdeck_query', 'pgdeck_query_write')")
        assert cursor.fetchone()[0] == 0
        # per-user roles: no power of their own, member of exactly their shared role
        cursor.execute("SELECT bool_or(r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls), "
                       "bool_and(r.rolconnlimit = %s) FROM pg_roles r WHERE r.rolname LIKE ANY(%s)",
                       [settings.QUERY_MAX_RUNS_PER_USER, user_role_patterns()])
        assert cursor.fetchone() in [(False, True), (None, None)]
    assert "least-privilege" in capsys.readouterr().out


def test_sql_over_the_size_limit_is_a_form_error(analyst_client, settings, transactional_db):
    settings.QUERY_MAX_SQL_BYTES = 100
    response = analyst_client.post(URL, {"sql": "SELECT 1 -- " + "x" * 200, "action": "run"})
    assert b"larger than 100 bytes" in response.content
    assert not QueryHistory.objects.exists()


def test_copy_to_stdout_points_to_export(analyst_client, transactional_db):
    response = analyst_client.post(URL, {"sql": "COPY posts TO STDOUT", "action": "run"})
    assert b"use Export CSV / JSON instead" in response.content


def test_saved_query_added_in_the_admin_belongs_to_its_author(analyst_client, analyst, make_user, transactional_db):
    response = analyst_client.post("/admin/dbtools/savedquery/add/", {"name": "mine", "sql": "SELECT 1",
                                                                      "description": ""})
    assert response.status_code == 302
    assert SavedQuery.objects.get().owner == analyst
    other = SavedQuery.objects.create(owner=make_user("analyst", username="x2"), name="theirs", sql="SELECT 2")
    assert analyst_client.get(f"/admin/dbtools/savedquery/{other.pk}/change/").status_code in (302, 404)
    other.shared = True
    other.save()
    page = analyst_client.get(f"/admin/dbtools/savedquery/{other.pk}/change/")
    assert page.status_code == 200 and b'name="sql"' not in page.content  # shared: visible, read-only


def test_saved_query_changed_and_deleted_in_the_admin_goes_through_the_services(analyst_client, analyst,
                                                                                transactional_db, monkeypatch):
    from dbtools.query import services

    calls = []

    def spy(name):
        original = getattr(services, name)

        def call(*args, **kwargs):
            calls.append((name, kwargs["actor"]))
            return original(*args, **kwargs)

        monkeypatch.setattr(services, name, call)

    spy("saved_query_update")
    spy("saved_query_delete")
    mine = SavedQuery.objects.create(owner=analyst, name="mine", sql="SELECT 1")
    response = analyst_client.post(f"/admin/dbtools/savedquery/{mine.pk}/change/",
                                   {"name": "renamed", "sql": "SELECT 2", "description": ""})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.name, mine.sql, mine.owner) == ("renamed", "SELECT 2", analyst)
    response = analyst_client.post(f"/admin/dbtools/savedquery/{mine.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not SavedQuery.objects.filter(pk=mine.pk).exists()
    assert calls == [("saved_query_update", analyst), ("saved_query_delete", analyst)]


def test_a_dangerous_membership_is_refused_until_setup_revokes_it(transactional_db, make_user, settings):
    import io

    from dbtools.query.errors import QueryError
    from dbtools.query.runner import run_query

    settings.QUERY_PER_USER_ROLES = False  # the shared role pgdeck_query, the one granted below
    user = make_user("analyst", username="shared-role-analyst")
    with connection.cursor() as cursor:
        cursor.execute("GRANT pg_read_server_files TO pgdeck_query")
    try:
        with pytest.raises(QueryError) as refused:
            run_query(user=user, sql="SELECT pg_read_file('/etc/passwd')")
        assert refused.value.code == "query_role_unsafe" and "pg_read_server_files" in refused.value.message
    finally:
        call_command("setup_query_role", stdout=io.StringIO())
    assert run_query(user=user, sql="SELECT 1").rows == [(1,)]


def test_bulk_delete_cannot_reach_other_users_shared_queries(analyst_client, analyst, make_user, transactional_db):
    theirs = SavedQuery.objects.create(owner=make_user("analyst", username="x3"), name="theirs", sql="SELECT 2",
                                       shared=True)
    response = analyst_client.post("/admin/dbtools/savedquery/", {"action": "delete_selected",
                                                                  "_selected_action": [theirs.pk], "post": "yes"})
    assert response.status_code in (200, 302)
    assert SavedQuery.objects.filter(pk=theirs.pk).exists()


def test_cells_render_like_psql_and_long_values_are_cut(analyst_client, transactional_db):
    response = analyst_client.post(URL, {"sql": "SELECT TIMESTAMPTZ '2026-01-02 03:04:05+00' AS t, true AS b, "
                                                "'{\"a\": [1]}'::jsonb AS j, '\\x0aff'::bytea AS raw, "
                                                "repeat('y', 5000) AS long", "action": "run"})
    html = response.content.decode()
    assert "<td>2026-01-02 03:04:05+00:00</td>" in html and "<td>true</td>" in html
    assert "{&quot;a&quot;: [1]}" in html and "\\x0aff" in html
    assert "y" * 2000 + "…" in html and "y" * 2001 not in html


def test_history_user_filter_only_for_those_who_see_everyone(analyst_client, client_for, transactional_db):
    assert b"By user" not in analyst_client.get("/admin/dbtools/queryhistory/").content
    assert b"By user" in client_for("admin", username="boss").get("/admin/dbtools/queryhistory/").content
