from django import forms

from jobs.models import Schedule
from jobs.schedules import CronError, cron_check


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = ["name", "kind", "cron", "enabled", "saved_query", "keep_last", "email_to"]
        widgets = {"cron": forms.TextInput(attrs={"size": 30, "placeholder": "30 2 * * *"})}

    def clean_cron(self):
        try:
            return cron_check(self.cleaned_data["cron"])
        except CronError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_email_to(self):
        addresses = [a.strip() for a in self.cleaned_data["email_to"].split(",") if a.strip()]
        validator = forms.EmailField()
        for address in addresses:
            try:
                validator.clean(address)
            except forms.ValidationError:
                raise forms.ValidationError(f"{address!r} is not an email address") from None
        return ", ".join(addresses)

    def clean(self):
        data = super().clean()
        if data.get("kind") == "snapshot" and not data.get("saved_query"):
            self.add_error("saved_query", "a snapshot schedule runs a saved query: choose one")
        if data.get("kind") != "snapshot" and data.get("email_to"):
            self.add_error("email_to", "only snapshot schedules mail their results")
        return data
