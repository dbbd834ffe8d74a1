"""Targets in the admin: add / edit (password write-only) / test connection; file targets are read-only."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from targets import identity
from targets.errors import TargetError, TargetNotFound
from targets.forms import TargetForm
from targets.models import Target, TargetGrant
from targets.selectors import default_target
from targets.services import EDITABLE, target_create, target_delete, target_grants_changed, target_test, target_update


def duplicate_warning(name, others, found):
    return (f"Target {name} is the same database as {', '.join(others)} ({identity.label(found)}): the fleet "
            "overview counts it once; tools and grants still treat them as separate targets.")


class TargetGrantInline(admin.TabularInline):
    model = TargetGrant
    extra = 0
    verbose_name = "grant"
    verbose_name_plural = "grants (members of the group may use this target for the capability, within their role)"


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    form = TargetForm
    inlines = [TargetGrantInline]
    list_display = ("name", "environment_badge", "host", "port", "dbname", "user", "sslmode", "source", "test_link")
    list_filter = ("environment", "source")
    search_fields = ("name", "host", "dbname")
    change_list_template = "admin/targets/target/change_list.html"
    change_form_template = "admin/targets/target/change_form.html"

    def get_fieldsets(self, request, obj=None):
        fields = ["name", "host", "port", "dbname", "user", "password"]
        if obj is not None and obj.has_password:
            fields.append("clear_password")
        return [(None, {"fields": fields}), ("TLS", {"fields": ["sslmode", "sslrootcert"]}),
                ("About", {"fields": ["environment", "notes"]})]

    @admin.display(description="environment")
    def environment_badge(self, obj):
        return format_html('<span class="target-badge target-badge--{}">{}</span>', obj.environment,
                           obj.environment)

    @admin.display(description="connection")
    def test_link(self, obj):
        return format_html('<a href="{}">Test connection</a>', reverse("admin:targets_target_test", args=[obj.name]))

    def _editable(self, obj):
        return obj is None or obj.source != "file"

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(obj)

    def save_model(self, request, obj, form, change):
        fields = {key: form.cleaned_data[key] for key in EDITABLE if key in form.cleaned_data}
        password = form.password_change()
        if change:
            saved = target_update(obj.name, request=request, password=password, **fields)
        else:
            saved = target_create(name=form.cleaned_data["name"], password=password or "", request=request, **fields)
        obj.pk, obj.password_encrypted = saved.pk, saved.password_encrypted
        if saved.duplicate_of:
            messages.warning(request, duplicate_warning(saved.name, saved.duplicate_of, saved.identity))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            target_grants_changed(form.instance.name, request=request)

    def delete_model(self, request, obj):
        target_delete(obj.name, request=request)

    def delete_queryset(self, request, queryset):
        for target in queryset:
            target_delete(target.name, request=request)

    def get_urls(self):
        view = self.admin_site.admin_view(self.test_view)
        return [path("test/<str:name>/", view, name="targets_target_test")] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra = {"default_target": default_target(),
                 "default_test_url": reverse("admin:targets_target_test", args=["default"])}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        target = Target.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        badge = {"target_badge": {"name": target.name, "environment": target.environment}} if target else {}
        return super().change_view(request, object_id, form_url, {**badge, **(extra_context or {})})

    def test_view(self, request, name):
        """Test the connection of `name` (POST runs the test; GET shows the page with its button)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            target = default_target() if name == "default" else Target.objects.get(name=name)
        except Target.DoesNotExist:
            raise Http404(f"no target named {name!r}") from None
        result = None
        if request.method == "POST":
            try:
                result = target_test(name, request=request)
            except (TargetNotFound, TargetError) as exc:
                messages.error(request, exc.message)
        warning = duplicate_warning(name, result.duplicate_of, result.identity) if result and result.duplicate_of \
            else ""
        context = {**self.admin_site.each_context(request), "title": f"Test connection: {name}", "target": target,
                   "result": result, "opts": self.model._meta, "duplicate_warning": warning,
                   "target_badge": {"name": target.name, "environment": target.environment},
                   "change_url": None if target.is_default else reverse("admin:targets_target_change",
                                                                        args=[target.pk])}
        return TemplateResponse(request, "admin/targets/target/test.html", context)
