"""pgdeck's admin site: Django's, plus the database tool views and a "Database tools" entry in the app list."""

from functools import update_wrapper

from django.contrib import admin
from django.urls import NoReverseMatch, reverse


class PgDeckAdminSite(admin.AdminSite):
    site_header = "pgdeck"
    site_title = "pgdeck"
    index_title = "PostgreSQL console"
    site_url = None  # no public site: hide "View site"

    @property
    def login_form(self):
        from accounts.forms import AdminLoginForm  # refuses logins from networks the user's role may not use

        return AdminLoginForm

    def get_urls(self):
        from dbtools.admin_urls import tool_urlpatterns

        return tool_urlpatterns(self) + super().get_urls()

    def tool_links(self, request):
        from dbtools.admin_urls import TOOLS

        links = []
        for label, url_name, perm in TOOLS:
            if not request.user.has_perm(perm):
                continue
            try:
                url = reverse(f"{self.name}:{url_name}")
            except NoReverseMatch:
                continue
            links.append({"name": label, "object_name": url_name, "admin_url": url, "view_only": True,
                          "perms": {"view": True}, "add_url": None})
        return links

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label not in (None, "dbtools"):
            return app_list
        links = self.tool_links(request)
        if not links:
            return app_list
        # One "Database tools" section, first: the tool screens, then dbtools' own tables (history, logs, …).
        records = next((app for app in app_list if app["app_label"] == "dbtools"), None)
        if records is not None:
            app_list.remove(records)
        # The header links to this section on its own page (/admin/dbtools/), as every app's header does.
        tools = {"name": "Database tools", "app_label": "dbtools", "app_url": reverse(f"{self.name}:app_list",
                                                                                       args=["dbtools"]),
                 "has_module_perms": True, "models": links + (records["models"] if records else [])}
        app_list.insert(0, tools)
        return app_list


def tool_view(site, view):
    """The one wrapper for a tool's admin screen: `view(request, site, **url_kwargs)` behind `site.admin_view`
    (login, staff, never cached), so the screen renders with the site's `each_context`."""

    def bound(request, *args, **kwargs):
        return view(request, site, *args, **kwargs)

    return site.admin_view(update_wrapper(bound, view))
