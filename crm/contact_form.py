"""Messages sent through the public contact form, kept as interactions with web-form provenance.

Writing to us is not consent to marketing: no consent is recorded and no purpose is granted. The
message is kept until staff mark it answered; the retention rule for answered contact-form
messages removes it after that.

Anyone can type any address into the form, so a message proves nothing about who sent it. It is
*unverified* until staff answer it or confirm the sender (the person replied, or called), and says
so in the admin. It is not the person's activity (the clock of the inactivity rules), and it adds
no provenance to a contact who already exists: a stranger cannot keep someone's record alive or
write its history. Only a confirmation counts the message as the person's own act.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.audit import record_audit
from core.models import AuditEvent
from crm.activity import record_activity
from crm.contacts import create_contact
from crm.interactions import save_interaction
from crm.models import Contact, Interaction, Source
from crm.provenance import get_source, record_provenance

CONTACT_FORM_SOURCE = "Contact form"
CHANNEL = "web_form"
# The same message from the same address within this window is a double submission.
REPEAT_WINDOW = timedelta(hours=1)


def receive_contact_message(*, name: str, email: str, message: str) -> Interaction:
    """Store a contact-form message for staff; a repeated identical post stores it once."""
    with transaction.atomic():
        contact = Contact.objects.filter(email=email).first()
        if contact is None:
            first, _, last = name.strip().partition(" ")
            contact = create_contact(
                actor=None,
                channel=CHANNEL,
                email=email,
                first_name=first[:100],
                last_name=last[:100],
                # Writing to us may be the person's own act: an opt-out does not stop an answer.
                allow_suppressed=True,
            )
            record_provenance(
                contact=contact,
                source=get_source(kind=Source.Kind.WEB_FORM, name=CONTACT_FORM_SOURCE),
                actor=None,
                channel=CHANNEL,
                reference="/contact/",
            )
        repeated = Interaction.objects.filter(
            contact=contact,
            kind=Interaction.Kind.CONTACT_FORM,
            body=message,
            created_at__gte=timezone.now() - REPEAT_WINDOW,
        ).first()
        if repeated is not None:
            return repeated
        interaction = save_interaction(
            interaction=Interaction(
                contact=contact,
                kind=Interaction.Kind.CONTACT_FORM,
                occurred_at=timezone.now(),
                subject="Contact-form message",
                body=message,
            ),
            actor=None,
            channel=CHANNEL,
        )
    return interaction


def is_unverified(interaction: Interaction) -> bool:
    """Whether a contact-form message's sender is still unproven (not answered, not confirmed)."""
    return (
        interaction.kind == Interaction.Kind.CONTACT_FORM
        and interaction.answered_at is None
        and interaction.confirmed_at is None
    )


def confirm_sender(*, interaction: Interaction, actor) -> bool:
    """Record that the person sent this message; count it as their activity. False if done."""
    if interaction.kind != Interaction.Kind.CONTACT_FORM or interaction.confirmed_at is not None:
        return False
    with transaction.atomic():
        interaction.confirmed_at = timezone.now()
        interaction.save(update_fields=["confirmed_at"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=interaction,
            channel="admin",
            fields=["confirmed_at"],
        )
        record_activity(contact=interaction.contact, at=interaction.occurred_at)
    return True


def mark_answered(*, interaction: Interaction, actor) -> bool:
    """Mark a contact-form message answered; return False if it already was."""
    if interaction.answered_at is not None:
        return False
    with transaction.atomic():
        interaction.answered_at = timezone.now()
        interaction.save(update_fields=["answered_at"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=interaction,
            channel="admin",
            fields=["answered_at"],
        )
    return True
