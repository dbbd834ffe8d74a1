"""The admin's target form: the password is write-only (never rendered back), "default" is reserved."""

from django import forms

from targets import crypto
from targets.errors import TargetError
from targets.models import DEFAULT, Target


class TargetForm(forms.ModelForm):
    password = forms.CharField(
        required=False, strip=False, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only: leave empty to keep the stored password. Stored encrypted (PGDECK_TARGETS_KEYS).")
    clear_password = forms.BooleanField(required=False, label="Remove the stored password")

    class Meta:
        model = Target
        fields = ("name", "host", "port", "dbname", "user", "sslmode", "sslrootcert", "environment", "notes")
        labels = {"sslmode": "TLS mode (sslmode)"}
        help_texts = {"sslmode": "verify-full checks the certificate against the root certificate and the host name",
                      "host": "a host name, an IP address or a Unix-socket directory"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "name" in self.fields:
            self.fields["name"].disabled = True  # grants, history and audit rows name it
            if self.instance.has_password and "password" in self.fields:
                self.fields["password"].help_text = "A password is stored (never shown). " + \
                    self.fields["password"].help_text

    def clean_name(self):
        name = self.cleaned_data["name"]
        if name == DEFAULT:
            raise forms.ValidationError('"default" is the app\'s own database; choose another name.')
        return name

    def clean_password(self):
        password = self.cleaned_data.get("password") or ""
        if password:
            try:
                crypto.encrypt("check")
            except TargetError as exc:
                raise forms.ValidationError(exc.message) from None
        return password

    def password_change(self):
        """None: keep the stored one; "": remove it; anything else: the new password."""
        if self.cleaned_data.get("clear_password"):
            return ""
        return self.cleaned_data.get("password") or None
