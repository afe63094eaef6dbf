"""Write the audit trail: one row per view or change of a person's record, never their data.

Call these inside the same transaction as the change they describe, so a change without its audit
row cannot be committed.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from core.models import AuditEvent


def record_audit(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model,
    channel: str,
    reason: str = "",
    fields: Iterable[str] = (),
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event for `obj`; `fields` names changed fields, never their values."""
    payload = dict(details or {})
    changed = sorted(fields)
    if changed:
        payload["fields"] = changed
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        channel=channel,
        reason=reason,
        details=payload,
    )


def record_many_audit(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    model: type[models.Model],
    ids: list[Any],
    channel: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event for many rows of `model` (a bulk change): their count and ids."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        # Many rows, one event: the type says what, the ids which ones (the timeline reads them).
        object_type=ContentType.objects.get_for_model(model, for_concrete_model=True),
        object_id="",
        channel=channel,
        reason=reason,
        details={**(details or {}), "count": len(ids), "ids": ids},
    )


def record_reads(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    model: type[models.Model],
    ids: Iterable[Any],
    channel: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Append one viewed event for a page of rows read at once, with their ids; none if empty.

    A list read through the API (or a bulk screen) is one request: one event names every row it
    showed, so the audit trail says who saw whom without a row per person.
    """
    shown = list(ids)
    if not shown:
        return None
    return record_many_audit(
        actor=actor,
        action=AuditEvent.Action.VIEWED,
        model=model,
        ids=shown,
        channel=channel,
        details=details,
    )


def save_audited(
    *,
    obj: models.Model,
    actor: AbstractBaseUser | AnonymousUser | None,
    channel: str,
    fields: Iterable[str] = (),
) -> None:
    """Save a new or changed row and append its created or changed event, atomically."""
    action = AuditEvent.Action.CHANGED if obj.pk else AuditEvent.Action.CREATED
    with transaction.atomic():
        obj.save()
        record_audit(actor=actor, action=action, obj=obj, channel=channel, fields=fields)


def record_login(
    *, user: AbstractBaseUser, succeeded: bool, details: dict[str, Any] | None = None
) -> AuditEvent:
    """Append a login or failed-login event for a known staff account.

    `details` says what kind: a second factor (`{"second_factor": "totp"}`), an attempt
    refused by the lock-out (`{"locked_out": True}`), a failure that locked the account or the
    address (`{"locked": True}`).
    """
    action = AuditEvent.Action.LOGIN if succeeded else AuditEvent.Action.LOGIN_FAILED
    return AuditEvent.objects.create(
        actor=user if succeeded else None,
        action=action,
        object_type=ContentType.objects.get_for_model(user, for_concrete_model=True),
        object_id=str(user.pk),
        channel="admin",
        details=details or {},
    )


def record_unknown_login_failure(*, details: dict[str, Any] | None = None) -> AuditEvent:
    """Append a failed login for a username that matches no account (the name is not kept)."""
    return AuditEvent.objects.create(
        action=AuditEvent.Action.LOGIN_FAILED,
        channel="admin",
        details={"known_account": False, **(details or {})},
    )
