"""Staff members in each role, with the groups the roles migration creates."""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group, User

from privacy.staff.roles import ADMINISTRATOR, ROLES


def ensure_roles() -> None:
    """Create the groups as the migration does, unless a flush left them in place."""
    if Group.objects.filter(name__in=[*ROLES, ADMINISTRATOR]).count() == len(ROLES) + 1:
        return
    create_roles = importlib.import_module("privacy.migrations.0009_roles").create_roles
    modules = {config.label: config.models_module for config in apps.get_app_configs()}
    try:
        create_roles(apps, None)
    finally:
        # The function marks app configs as holding no models: right for the migration's
        # historical apps, wrong for the live registry.
        for config in apps.get_app_configs():
            config.models_module = modules[config.label]


def staff_member(role: str, username: str | None = None) -> User:
    """Return a new staff user in `role`, with a made-up address at example.org."""
    ensure_roles()
    slug = username or role.lower().replace(" ", "-")
    user = User.objects.create_user(
        username=slug, email=f"{slug}@example.org", password="a-made-up-passphrase", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    return user
