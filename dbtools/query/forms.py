"""Forms of the query editor page and of saved queries."""

from django import forms
from django.conf import settings

from dbtools.query.safety import parameter_names

ACTIONS = ["run", "explain", "explain_analyze", "export_csv", "export_json", "export_job", "save"]


def _target_label(target):
    return f"{target['name']} ({target['environment']})" if target.get("environment") else target["name"]


class QueryForm(forms.Form):
    target = forms.ChoiceField(required=False, label="Target", initial="default")
    sql = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "id": "id_sql", "spellcheck": "false",
                                                       "placeholder": "SELECT … (Ctrl-Enter runs)"}),
                          label="SQL", strip=False)
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS], initial="run", required=False)
    write_mode = forms.BooleanField(required=False, label="Write mode (commits on success)")
    confirm_write = forms.BooleanField(required=False, label="I confirm: this run may change data")
    run_token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    saved_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    save_name = forms.CharField(required=False, max_length=200, label="Name")
    save_description = forms.CharField(required=False, label="Description", widget=forms.Textarea(attrs={"rows": 2}))
    save_shared = forms.BooleanField(required=False, label="Shared with other users")

    def __init__(self, *args, user=None, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # the targets this user may query ({name, environment}); "default" is the app's own database
        self.fields["target"].choices = [(t["name"], _target_label(t)) for t in targets] or [("default", "default")]
        if not (user and user.has_perm("dbtools.run_write_query")):
            del self.fields["write_mode"], self.fields["confirm_write"]
        source = self.data.get("sql") if self.is_bound else self.initial.get("sql", "")
        self.param_names = parameter_names(source or "")
        for name in self.param_names:
            self.fields[f"param_{name}"] = forms.CharField(label=f":{name}", required=False, strip=False)

    def clean_target(self):
        return self.cleaned_data.get("target") or "default"

    def clean_sql(self):
        text = self.cleaned_data["sql"]
        if len(text.encode("utf-8")) > settings.QUERY_MAX_SQL_BYTES:
            raise forms.ValidationError(f"The SQL is larger than {settings.QUERY_MAX_SQL_BYTES} bytes.")
        return text

    def clean(self):
        data = super().clean()
        action = data.get("action") or "run"
        data["action"] = action
        if data.get("write_mode") and action == "run" and not data.get("confirm_write"):
            self.add_error("confirm_write", "Tick the confirmation to run in write mode.")
        if action == "save" and not data.get("save_name"):
            self.add_error("save_name", "A saved query needs a name.")
        missing = [n for n in self.param_names if action != "save" and not self.data.get(f"param_{n}")]
        for name in missing:
            self.add_error(f"param_{name}", "Fill in this parameter.")
        return data

    def params(self):
        return {name: self.cleaned_data.get(f"param_{name}") for name in self.param_names}

    def param_fields(self):
        return [self[f"param_{name}"] for name in self.param_names]
