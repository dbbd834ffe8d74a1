import os
import secrets

from django.core.management.base import BaseCommand

from accounts.models import User

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the demo admin (username admin) once; its password comes from DEMO_ADMIN_PASSWORD or is generated."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "")
        user = User.objects.filter(username=USERNAME).first()
        if user is not None:
            if password:
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(f"Demo admin: {USERNAME} (password reset from DEMO_ADMIN_PASSWORD)")
            else:
                self.stdout.write(f"Demo admin: {USERNAME} (exists; password unchanged — "
                                  "set DEMO_ADMIN_PASSWORD and rerun to reset it)")
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(USERNAME, "admin@example.com", password, role="admin")
        shown = password if generated else "(from DEMO_ADMIN_PASSWORD)"
        self.stdout.write(self.style.SUCCESS(f"Demo admin created — username: {USERNAME}  password: {shown}"))
        if generated:
            self.stdout.write("This password is printed only once; note it down.")
