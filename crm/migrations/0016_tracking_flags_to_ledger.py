"""Move the preference centre's old tracking switch into the consent ledger, then drop it.

The flag defaulted to on for everybody, so an "on" proves no consent and becomes no event: those
people are tracked again only once they agree (or under a legitimate-interest basis the privacy
officer sets). An "off" was the person's own choice: it becomes a withdrawal of `analytics` in
the ledger, dated when the audit trail says it was made, unless a later ledger event decided it.
Going back sets the flag off again for exactly those people.
"""

from django.db import migrations
from django.utils import timezone

KEY = "tracking-flag:{}"
WORDING = (
    "Switched off in the preference centre: Record when I open your e-mails and which links I "
    "click (with the country only)."
)
BATCH = 2000


def flags_to_ledger(apps, schema_editor):
    Contact = apps.get_model("crm", "Contact")
    Purpose = apps.get_model("privacy", "Purpose")
    ConsentEvent = apps.get_model("privacy", "ConsentEvent")
    ConsentState = apps.get_model("privacy", "ConsentState")
    AuditEvent = apps.get_model("core", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    purpose = Purpose.objects.filter(code="analytics").first()
    if purpose is None:
        return
    content_type = ContentType.objects.filter(app_label="crm", model="contact").first()
    last = 0
    while True:
        ids = list(
            Contact.objects.filter(tracking_allowed=False, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return
        for contact_id in ids:
            changed = (
                AuditEvent.objects.filter(
                    object_type=content_type,
                    object_id=str(contact_id),
                    details__fields=["tracking_allowed"],
                )
                .order_by("-at")
                .values_list("at", flat=True)
                .first()
            )
            at = changed or timezone.now()
            event, created = ConsentEvent.objects.get_or_create(
                idempotency_key=KEY.format(contact_id),
                purpose=purpose,
                defaults={
                    "contact_id": contact_id,
                    "action": "withdraw",
                    "wording": WORDING,
                    "channel": "preference_centre",
                    "occurred_at": at,
                },
            )
            state = ConsentState.objects.filter(contact_id=contact_id, purpose=purpose).first()
            if state is None:
                ConsentState.objects.create(
                    contact_id=contact_id,
                    purpose=purpose,
                    status="withdraw",
                    last_event=event,
                    since=at,
                )
            elif created and state.since <= at:
                state.status, state.last_event, state.since = "withdraw", event, at
                state.save(update_fields=["status", "last_event", "since"])
        last = ids[-1]


def ledger_to_flags(apps, schema_editor):
    Contact = apps.get_model("crm", "Contact")
    ConsentEvent = apps.get_model("privacy", "ConsentEvent")
    ids = ConsentEvent.objects.filter(idempotency_key__startswith="tracking-flag:").values_list(
        "contact_id", flat=True
    )
    Contact.objects.filter(pk__in=list(ids)).update(tracking_allowed=False)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0015_import_sheet_and_cleaning"),
        ("privacy", "0018_tracking_basis"),
        ("campaigns", "0021_tracking_origin_and_web_visits"),
        ("core", "0005_audit_cookie_banner_channel"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(flags_to_ledger, ledger_to_flags),
        migrations.RemoveField(model_name="contact", name="tracking_allowed"),
    ]
