"""`manage.py ensure_admin`: create the local administrator once and print its login."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the 'admin' superuser for the embedded default (password kept in var/)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **options):
        username = options["username"]
        password_file = settings.VAR_DIR / f"{username}_password"
        if not password_file.exists():
            password_file.write_text(secrets.token_urlsafe(12))
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user_model.objects.create_superuser(
                username=username, email=f"{username}@example.org", password=password
            )
        elif not user.check_password(password):
            self.stdout.write(f"User '{username}' exists with another password; left as it is.")
            return
        # The address is printed by whoever serves the site: the port is theirs to choose.
        self.stdout.write(f"Admin login: user {username}, password {password}")
        self.stdout.write(
            "At the first login the admin asks you to set up an authenticator app (two-factor)."
        )
