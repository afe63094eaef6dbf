"""Move the content types of the models that changed apps, then apply the roles table again.

The audit trail now belongs to core, the suppression list to crm and the task outbox to core
(state-only moves: `core/0001`, `crm/0011`, `privacy/0014`, `config/0003`). Renaming a content type
keeps its permissions, the groups holding them and the admin log entries pointing at it. Where an
earlier migration already made the new content type (on a fresh database every roles migration
creates permissions for the models of its time), the groups' permissions are moved onto the new
one, and so are audit events, admin log entries and users' own permissions, before the old
content type is removed. Then `privacy.staff.roles` is applied to the groups.
"""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")

MOVED = {
    "auditevent": ("privacy", "core"),
    "suppression": ("privacy", "crm"),
    "outboxtask": ("config", "core"),
}


def _move(apps, *, backwards: bool) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, (old, new) in MOVED.items():
        source_label, target_label = (new, old) if backwards else (old, new)
        source = ContentType.objects.filter(app_label=source_label, model=model).first()
        if source is None:
            continue
        target = ContentType.objects.filter(app_label=target_label, model=model).first()
        if target is None:
            source.app_label = target_label
            source.save(update_fields=["app_label"])
        else:
            _merge(apps, source=source, target=target)


def _merge(apps, *, source, target) -> None:
    """Point everything that names `source` at `target`, then remove `source`."""
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    for permission in Permission.objects.filter(content_type=source):
        twin, _ = Permission.objects.get_or_create(
            content_type=target,
            codename=permission.codename,
            defaults={"name": permission.name},
        )
        for group in Group.objects.filter(permissions=permission):
            group.permissions.add(twin)
        for user in User.objects.filter(user_permissions=permission):
            user.user_permissions.add(twin)
    apps.get_model("core", "AuditEvent").objects.filter(object_type=source).update(
        object_type=target
    )
    apps.get_model("admin", "LogEntry").objects.filter(content_type=source).update(
        content_type=target
    )
    source.delete()


def move_content_types(apps, schema_editor):
    _move(apps, backwards=False)


def move_content_types_back(apps, schema_editor):
    _move(apps, backwards=True)


def create_roles(apps, schema_editor):
    roles_0009.create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0014_move_audit_and_suppression"),
        ("config", "0003_move_outbox_to_core"),
        ("campaigns", "0014_segment_activity_limit"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.RunPython(move_content_types, move_content_types_back),
        # Going back leaves the groups as they are.
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
