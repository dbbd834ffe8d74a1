def test_healthz_reports_database_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_admin_index_lists_blog_tables(client_for):
    response = client_for("admin").get("/admin/")
    assert response.status_code == 200
    assert b"/admin/blog/post/" in response.content
