from django import forms
from django.conf import settings

from dbtools.backups.services import FORMATS
from dbtools.backups.tools import DB_NAME_RE, live_database_name
from dbtools.targeting import DEFAULT
from targets.selectors import targets_for_user


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
    """Where to restore: a target the user may restore into (targets grants), a database on it (default: the
    target's own), confirmed by typing `target/database` (on the default target the bare name still does)."""

    target = forms.ChoiceField(required=False, label="Target",
                               help_text="Only targets you may restore into are listed.")
    target_db = forms.CharField(max_length=63, required=False, label="Target database",
                                help_text="Empty: the target's own database.")
    create = forms.BooleanField(required=False, label="Create it first (dropped again if the restore fails)")
    confirm = forms.CharField(max_length=200, label="Type target/database to confirm (e.g. staging/appdb)")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.databases = {t.name: t.dbname for t in targets_for_user(user, "restore")}
        self.fields["target"].choices = [(name, f"{name} ({db})") for name, db in self.databases.items()]

    def clean_target(self):
        return self.cleaned_data.get("target") or DEFAULT

    def clean_target_db(self):
        name = self.cleaned_data["target_db"].strip()
        if name and not DB_NAME_RE.match(name):
            raise forms.ValidationError("Use letters, digits, _, $ or - (at most 63).")
        return name

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target is None or "target_db" not in data:
            return data
        if target == DEFAULT and not data["target_db"]:
            data["target_db"] = live_database_name()
        data["target_db"] = data["target_db"] or self.databases.get(target, "")
        named = f"{target}/{data['target_db']}"
        typed = data.get("confirm", "").strip()
        if typed != named and not (target == DEFAULT and typed == data["target_db"]):
            self.add_error("confirm", f"This must be exactly the target database, written {named}.")
        return data

    @property
    def live_name(self):
        return live_database_name()
