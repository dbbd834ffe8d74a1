"""Admin form that creates an API key through services.api_key_create (the model form never saves itself)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from accounts import networks
from accounts.models import ApiKey, User
from accounts.roles import SCOPES, scopes_for_role
from accounts.selectors import user_manages_all_keys
from accounts.services import (
    ApiKeyError,
    api_key_check_networks,
    api_key_check_scopes,
    api_key_check_targets,
    parse_duration,
)

EXPIRY_CHOICES = [("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"), ("365d", "1 year"), ("", "Never")]
SCOPE_HELP = {
    "read": "read blog data, monitoring, backups and migration state",
    "write": "create, change and delete blog data",
    "query": "run read-only SQL, export results, saved queries",
    "monitor": "monitoring only",
    "operate": "cancel/terminate backends, manage backups, apply migrations",
    "admin": "everything the owner's role allows",
}


class ApiKeyCreateForm(forms.ModelForm):
    """`requester` (set by the admin) limits the owner to themselves unless they manage every key."""

    requester = None

    scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, initial=["read"],
                                       help_text="A key can never do more than its owner's role.")
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90d", required=False, label="Expires in")
    allowed_networks = forms.CharField(
        required=False, label="Allowed networks", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One IP network per line or comma-separated (CIDR, e.g. 10.0.0.0/8 or 203.0.113.7); "
                  "empty: from anywhere the owner's role allows.")
    targets = forms.CharField(
        required=False, label="Targets", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Database target names the key may use, one per line or comma-separated; "
                  "empty: every target its owner may use.")

    class Meta:
        model = ApiKey
        fields = ["user", "name", "scopes", "expires_in", "allowed_networks", "targets"]
        help_texts = {"name": "What the key is for, e.g. “nightly export script”."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        manages_all = user_manages_all_keys(self.requester)
        allowed = list(SCOPES) if manages_all else scopes_for_role(self.requester.role)
        self.fields["scopes"].choices = [(name, f"{name} — {SCOPE_HELP.get(name, '')}") for name in allowed]
        if "user" in self.fields:
            self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")
            self.fields["user"].initial = self.requester.pk
            self.fields["user"].label = "Owner"

    def owner(self):
        return self.cleaned_data.get("user") or self.requester

    def clean_expires_in(self):
        value = self.cleaned_data.get("expires_in")
        return parse_duration(value) if value else None

    def clean_allowed_networks(self):
        text = self.cleaned_data.get("allowed_networks") or ""
        try:
            return api_key_check_networks(text.replace(",", "\n").split())
        except ApiKeyError as exc:
            raise ValidationError(str(exc), code="invalid_network")

    def clean_targets(self):
        text = self.cleaned_data.get("targets") or ""
        try:
            return api_key_check_targets(text.replace(",", "\n").split())
        except ApiKeyError as exc:
            raise ValidationError(str(exc), code="invalid_target")

    def clean(self):
        cleaned = super().clean()
        owner = self.owner()
        if owner is not None and cleaned.get("scopes"):
            try:
                cleaned["scopes"] = api_key_check_scopes(owner, cleaned["scopes"])
            except ApiKeyError as exc:
                self.add_error("scopes", str(exc))
        return cleaned


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, refusing a correct password from a network the user's role may not use."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        message = networks.network_refusal(self.request, user)
        if message:
            networks.network_refused_record(self.request, user=user, surface="admin_login")
            raise ValidationError(message, code=networks.CODE)
