"""Invoices pushed by integrators: a minimal billing record under a legal hold.

The hold runs one year past the due date (the minimum the policy promises to keep billing data);
the retention rule for invoices removes them three years after the due date (the maximum). An
invoice is the person's own business with us, so it counts as their activity.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.actors import Actor
from core.audit import record_audit
from core.dates import add_months
from core.models import AuditEvent
from crm.activity import record_activity
from crm.models import Contact, Invoice

HOLD_YEARS = 1


def hold_end(due_on: date) -> date:
    """Return the last day of the legal hold: one year after the due date."""
    return add_months(due_on, 12 * HOLD_YEARS)


def record_invoice(
    *,
    contact: Contact,
    number: str,
    issued_on: date,
    due_on: date,
    amount: Decimal,
    currency: str,
    actor: Actor,
    channel: str,
) -> Invoice:
    """Store an invoice with its hold date; refuse a duplicate number or impossible dates."""
    errors = {}
    if due_on < issued_on:
        errors["due_on"] = "The due date cannot be before the issue date."
    if amount < 0:
        errors["amount"] = "The amount cannot be negative; send a credit note as its own invoice."
    if contact.anonymised_at is not None:
        errors["contact"] = "This person was erased; no new records can be attached."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                contact=contact,
                number=number,
                issued_on=issued_on,
                due_on=due_on,
                amount=amount,
                currency=currency.upper(),
                hold_until=hold_end(due_on),
            )
            record_audit(
                actor=actor,
                action=AuditEvent.Action.CREATED,
                obj=invoice,
                channel=channel,
                details={"contact": contact.pk},
            )
            record_activity(contact=contact)
    except IntegrityError as exc:
        raise ValidationError({"number": "An invoice with this number already exists."}) from exc
    return invoice


def record_invoice_view(*, invoice: Invoice, actor: Actor, channel: str) -> None:
    """Log that a staff member opened an invoice: it names a person and what they paid."""
    record_audit(actor=actor, action=AuditEvent.Action.VIEWED, obj=invoice, channel=channel)
