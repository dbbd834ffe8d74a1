"""Shared ModelAdmin pieces for dbtools' log tables."""


class ReadOnlyLogAdminMixin:
    """A log nobody edits: viewable with `view_permission` (app.codename), never added, changed or deleted."""

    view_permission = ""

    def has_module_permission(self, request):
        return request.user.has_perm(self.view_permission) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.view_permission) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
