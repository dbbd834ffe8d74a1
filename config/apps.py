from django.contrib.admin.apps import AdminConfig


class PgDeckAdminConfig(AdminConfig):
    """Django's admin with pgdeck's site, which adds the database tool views."""

    default_site = "dbtools.admin_site.PgDeckAdminSite"
