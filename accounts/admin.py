from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.forms import ApiKeyCreateForm
from accounts.models import ApiKey, User
from accounts.selectors import api_keys_visible_to, user_manages_all_keys
from accounts.services import api_key_create, api_key_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "role", "is_active", "is_superuser", "last_login")
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = DjangoUserAdmin.fieldsets + (("Console role", {"fields": ("role",)}),)
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (("Console role", {"fields": ("role", "email")}),)

    ROLE_FIELDS = {"role", "groups", "user_permissions", "is_superuser", "is_staff", "is_active"}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = sorted(self.ROLE_FIELDS.intersection(form.changed_data))
        if changed or not change:
            from core.audit import audit_record

            audit_record("user.role_change", request=request, target=obj.username, role=obj.role,
                         previous_role=form.initial.get("role") if change else None, changed=changed,
                         created=not change)


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("expired", "expired"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
        return queryset


def _short(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Every staff user manages their own keys; admins every key. Keys are created and revoked, never edited."""

    list_display = ("key_prefix", "name", "status", "user", "scope_list", "expires", "used", "created")
    list_display_links = ("key_prefix", "name")
    list_filter = (StatusFilter,)
    search_fields = ("=prefix", "name", "user__username")
    list_select_related = ("user",)
    actions = ("revoke_keys",)
    fields = ("name", "key_prefix", "user", "scope_list", "allowed_networks", "targets", "created_at", "expires_at",
              "last_used", "revoked_at", "status")
    readonly_fields = fields

    @admin.display(description="prefix", ordering="prefix")
    def key_prefix(self, obj):
        return f"pgd_{obj.prefix}_…"

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return _short(obj.created_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj):
        return _short(obj.expires_at) if obj.expires_at else "never"

    @admin.display(description="last used", ordering="last_used")
    def used(self, obj):
        return _short(obj.last_used) if obj.last_used else "never"

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes) or "—"

    def get_queryset(self, request):
        return api_keys_visible_to(request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row stays as a record of the key

    def has_revoke_permission(self, request):
        return self.has_module_permission(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change, **kwargs)
        fields = ["user", "name", "scopes", "expires_in", "allowed_networks", "targets"]
        if not user_manages_all_keys(request.user):
            fields.remove("user")
        form = super().get_form(request, obj, change, form=ApiKeyCreateForm, fields=fields)
        return type(form.__name__, (form,), {"requester": request.user})

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": list(self.get_form(request).base_fields)})]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def save_model(self, request, obj, form, change):
        """Create through the service; the plaintext rides on the request to response_add and nowhere else."""
        api_key, plaintext = api_key_create(
            user=form.owner(), name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
            expires_in=form.cleaned_data.get("expires_in"), actor=request.user, request=request,
            allowed_networks=form.cleaned_data.get("allowed_networks"), targets=form.cleaned_data.get("targets"))
        obj.__dict__.update({k: v for k, v in api_key.__dict__.items() if k != "_state"})
        obj._state.adding = False
        request._new_api_key = plaintext

    def save_related(self, request, form, formsets, change):
        pass  # no relations; the form's own m2m saving would touch the unsaved model form instance

    def response_add(self, request, obj, post_url_continue=None):
        plaintext = request._new_api_key
        self.message_user(request, format_html(
            "API key “{}” created. Copy it now — it is shown only this once: <code class=\"api-key\">{}</code>",
            obj.name, plaintext), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_apikey_changelist"))

    def get_urls(self):
        revoke = path("<int:object_id>/revoke/", self.admin_site.admin_view(self.revoke_view),
                      name="accounts_apikey_revoke")
        return [revoke, *super().get_urls()]

    def revoke_view(self, request, object_id):
        """GET: confirm; POST: revoke (irreversible) and go back to the list."""
        api_key = get_object_or_404(self.get_queryset(request), pk=object_id)
        if request.method == "POST":
            api_key_revoke(api_key, actor=request.user, request=request)
            self.message_user(request, f"Revoked pgd_{api_key.prefix}_… ({api_key.name}).", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:accounts_apikey_changelist"))
        context = {**self.admin_site.each_context(request), "title": "Revoke API key", "api_key": api_key,
                   "opts": self.opts}
        return TemplateResponse(request, "admin/accounts/apikey/revoke_confirmation.html", context)

    @admin.action(description="Revoke selected API keys (irreversible)", permissions=["revoke"])
    def revoke_keys(self, request, queryset):
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key, actor=request.user, request=request)
            revoked += 1
        skipped = queryset.count() - revoked
        note = f" ({skipped} already revoked)" if skipped else ""
        self.message_user(request, f"Revoked {revoked} API key(s){note}.", messages.SUCCESS)
