from django import forms
from django.conf import settings

from dbtools.backups.services import FORMATS
from dbtools.backups.tools import DB_NAME_RE, live_database_name


class BackupCreateForm(forms.Form):
    format = forms.ChoiceField(choices=[(f, f) for f in FORMATS], initial="custom",
                               help_text="custom: compressed, restorable table by table; plain: SQL text; "
                                         "directory: one file per table, dumped in parallel")
    schema_only = forms.BooleanField(required=False, label="Schema only (no rows)")
    tables = forms.CharField(required=False, max_length=2000,
                             help_text="Only these tables, separated by commas (empty: every table)")
    encrypt = forms.BooleanField(required=False, help_text="With BACKUP_ENCRYPTION_KEY (custom or plain format)")
    verify = forms.BooleanField(required=False, label="Verify afterwards",
                                help_text="Restore into a scratch database and compare tables and row counts")

    def clean(self):
        data = super().clean()
        if data.get("encrypt") and not settings.BACKUP_ENCRYPTION_KEY:
            self.add_error("encrypt", "BACKUP_ENCRYPTION_KEY is not set on the server.")
        if data.get("encrypt") and data.get("format") == "directory":
            self.add_error("encrypt", "Encryption needs the custom or plain format.")
        data["table_list"] = [t.strip() for t in (data.get("tables") or "").split(",") if t.strip()]
        return data


class RestoreForm(forms.Form):
    target_db = forms.CharField(max_length=63, label="Target database")
    create = forms.BooleanField(required=False, label="Create it first (dropped again if the restore fails)")
    confirm = forms.CharField(max_length=63, label="Type the target database's name to confirm")

    def clean_target_db(self):
        name = self.cleaned_data["target_db"].strip()
        if not DB_NAME_RE.match(name):
            raise forms.ValidationError("Use letters, digits, _, $ or - (at most 63).")
        return name

    def clean(self):
        data = super().clean()
        if data.get("target_db") and data.get("confirm", "").strip() != data["target_db"]:
            self.add_error("confirm", "This must be exactly the target database's name.")
        return data

    @property
    def live_name(self):
        return live_database_name()
