"""Admin forms of the migrations screen: the log filters and the action (apply / downgrade) chooser."""

from django import forms

from dbtools.migrations_bridge.revisions import BASE, HEAD, revision_chain
from dbtools.models import MigrationLog


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, choices=[("", "any action"), *MigrationLog.ACTION_CHOICES])
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *MigrationLog.STATUS_CHOICES])
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("“From” is after “To”.")
        return data


def downgrade_choices():
    chain = revision_chain()
    earlier = [(p.revision, f"{p.revision} — {p.django_name}") for p in reversed(chain[:-1]) if p.revision]
    return [*earlier, (BASE, "base — no mirrored migration")]


class ActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("upgrade", "apply pending"), ("downgrade", "downgrade")])
    revision = forms.CharField(max_length=64, required=False)

    def clean(self):
        data = super().clean()
        action, revision = data.get("action"), data.get("revision") or ""
        if action == "upgrade":
            data["revision"] = HEAD
        elif action == "downgrade" and revision not in {value for value, _label in downgrade_choices()}:
            self.add_error("revision", f"Choose a revision to downgrade to (not “{revision}”).")
        return data
