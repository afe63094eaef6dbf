"""Data-subject requests: intake, verification, the legal clock and the outcomes (GDPR art. 12-22).

A request from the public form is stored unverified and answered by a single-use, expiring link
mailed from the worker, so the form behaves the same, in body, status and timing, whether or not
the address is known. Verification starts the clock: the answer is due one month after receipt
(art. 12(3)), extendable once by up to two months with a reason the requester is told. Access and
portability exports and consent withdrawals are carried out at once; erasure waits for the privacy
officer's approval unless `ERASURE_AUTO_APPROVE` is on; rectification, restriction and objection
go to the officer's queue. A request only ever concerns the verified address: nobody receives
another person's data.
"""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.actors import Actor
from core.audit import record_audit
from core.dates import add_months
from core.events import EventKind, emit_event
from core.models import AuditEvent
from core.normalisation import normalise_email
from core.outbox import enqueue_on_commit
from core.ratelimit import allow
from crm.models import Contact, Suppression
from crm.suppression import email_hash, suppress
from privacy.accountability.recipients import recipient_names, recipients_of
from privacy.consent.ledger import record_consent, withdraw_all
from privacy.deletion.erasure import erase_subject
from privacy.languages import requester_language, supported_language
from privacy.links import (
    InvalidLink,
    download_url,
    read_status_token,
    read_verification_token,
    status_url,
    verification_url,
)
from privacy.models import ConsentEvent, Purpose, SubjectRequest
from privacy.requests.exports import export_subject

AUTOMATIC = (
    SubjectRequest.Kind.ACCESS,
    SubjectRequest.Kind.PORTABILITY,
    SubjectRequest.Kind.WITHDRAW_CONSENT,
)
ERASING = (SubjectRequest.Kind.ERASURE, SubjectRequest.Kind.EXCLUSION)
# Art. 21(1): the right to object applies to processing on these bases; consent is withdrawn.
OBJECTABLE_BASES = (Purpose.LegalBasis.LEGITIMATE_INTEREST, Purpose.LegalBasis.PUBLIC_TASK)
CLOSED = (
    SubjectRequest.Status.COMPLETED,
    SubjectRequest.Status.REJECTED,
    SubjectRequest.Status.EXPIRED,
)


class RateLimited(Exception):
    """Too many requests from one client address or for one e-mail address."""


def submit_request(
    *,
    kind: str,
    email: str,
    details: str,
    channel: str,
    client_address: str,
    purposes: Iterable[Purpose] = (),
    language: str = "",
    wants_recipients: bool = False,
) -> SubjectRequest:
    """Store an unverified request and queue its verification mail; raise RateLimited.

    `language` is the one the form was filled in: the mails use it for an unknown address;
    `wants_recipients` asks for the recipients of the person's data to be named in the answer.
    """

    address = normalise_email(email)
    digest = email_hash(address)
    hour = 60 * 60
    ip_key = hashlib.sha256(client_address.encode()).hexdigest()
    if not (
        allow(
            scope="request-ip", key=ip_key, limit=settings.REQUEST_RATE_PER_IP, window_seconds=hour
        )
        and allow(
            scope="request-email",
            key=digest,
            limit=settings.REQUEST_RATE_PER_EMAIL,
            window_seconds=hour,
        )
    ):
        raise RateLimited
    if kind not in SubjectRequest.Kind.values:
        raise ValidationError({"kind": f"Unknown kind of request {kind!r}."})
    refuse_objection_to_consent(kind=kind, purposes=purposes)
    with transaction.atomic():
        request = SubjectRequest.objects.create(
            kind=kind,
            channel=channel,
            email=address,
            email_hash=digest,
            details=details,
            language=supported_language(language) or "",
            wants_recipients=wants_recipients,
            status=SubjectRequest.Status.UNVERIFIED,
            verification_nonce=secrets.token_hex(16),
        )
        request.purposes.set(purposes)
        enqueue_on_commit("privacy.tasks.send_request_verification", request.pk)
    return request


def objectable_purposes() -> QuerySet[Purpose]:
    """Return the purposes an objection applies to (art. 21: legitimate interest, public task)."""
    return Purpose.objects.filter(is_active=True, legal_basis__in=OBJECTABLE_BASES)


def refuse_objection_to_consent(*, kind: str, purposes: Iterable[Purpose]) -> None:
    """Refuse an objection to a purpose that rests on another basis: consent is withdrawn."""
    wrong = [p.name for p in purposes if p.legal_basis not in OBJECTABLE_BASES]
    if kind == SubjectRequest.Kind.OBJECTION and wrong:
        raise ValidationError(
            {
                "purposes": gettext(
                    "%(names)s rests on your consent or on the law, not on our interest: "
                    "withdraw your consent instead."
                )
                % {"names": ", ".join(wrong)}
            }
        )


def check_staff_request(*, email: str, received_at: datetime | None, identity_check: str) -> str:
    """Return the normalised address of a request staff log; raise ValidationError per field.

    The address, the identity check and a received date that is not in the future are required.
    """
    errors = {}
    address = ""
    try:
        address = normalise_email(email)
    except ValidationError as exc:
        errors["email"] = exc.messages
    if not identity_check.strip():
        errors["identity_check"] = "Say how the requester's identity was checked."
    if received_at is not None and received_at > timezone.now():
        errors["received_at"] = "A request cannot be received in the future."
    if errors:
        raise ValidationError(errors)
    return address


def log_staff_request(
    *,
    kind: str,
    email: str,
    channel: str,
    received_at: datetime,
    identity_check: str,
    actor: Actor,
    details: str = "",
    letter=None,
    purposes: Iterable[Purpose] = (),
    language: str = "",
    wants_recipients: bool = False,
) -> SubjectRequest:
    """Log a request that came by e-mail or letter; identity was checked by staff, so it is open.

    `language` is the one the person wrote in, for the mails when the address is no contact's.
    """
    address = check_staff_request(
        email=email, received_at=received_at, identity_check=identity_check
    )
    with transaction.atomic():
        request = SubjectRequest(
            kind=kind,
            channel=channel,
            email=address,
            email_hash=email_hash(address),
            details=details,
            identity_check=identity_check,
            language=supported_language(language) or "",
            wants_recipients=wants_recipients,
            received_at=received_at,
            handler=actor if actor is not None and actor.is_authenticated else None,
        )
        if letter:
            request.letter = letter
        request.save()
        request.purposes.set(purposes)
        _start_clock(request, actor=actor, channel="admin")
    return request


def request_from_status_token(token: str) -> SubjectRequest:
    """Return the request of a status link; raise InvalidLink."""
    request = SubjectRequest.objects.filter(pk=read_status_token(token)).first()
    if request is None:
        raise InvalidLink
    return request


def verification_link_language(token: str) -> str | None:
    """Return the language of the request a verification link belongs to, expired or not."""
    try:
        link = read_verification_token(token)
    except InvalidLink:
        return None
    request = SubjectRequest.objects.select_related("contact").filter(pk=link.request_id).first()
    return requester_language(request) if request is not None else None


def verify_request(*, token: str) -> SubjectRequest:
    """Verify a request by its link, once; start its clock. Raise ExpiredLink or InvalidLink."""
    link = read_verification_token(token, max_age=settings.REQUEST_VERIFY_MAX_AGE)
    with transaction.atomic():
        request = (
            SubjectRequest.objects.select_for_update()
            .filter(pk=link.request_id, status=SubjectRequest.Status.UNVERIFIED)
            .exclude(verification_nonce="")
            .first()
        )
        if request is None or not secrets.compare_digest(request.verification_nonce, link.nonce):
            raise InvalidLink
        request.verification_nonce = ""
        _start_clock(request, actor=None, channel="public")
    return request


def _start_clock(request: SubjectRequest, *, actor: Actor, channel: str) -> None:
    """Open a verified request: due date, contact link, repeat flag; act on it after commit."""

    request.verified_at = timezone.now()
    request.status = SubjectRequest.Status.OPEN
    request.due_at = add_months(request.received_at, 1)
    request.contact = Contact.objects.filter(email=request.email).first()
    window = timezone.now() - timedelta(days=settings.REQUEST_REPEAT_WINDOW_DAYS)
    request.possibly_excessive = (
        SubjectRequest.objects.filter(
            email_hash=request.email_hash, kind=request.kind, verified_at__gte=window
        )
        .exclude(pk=request.pk)
        .exists()
    )
    request.save()
    record_audit(
        actor=actor,
        action=AuditEvent.Action.CHANGED,
        obj=request,
        channel=channel,
        details={"verified": True, "kind": request.kind},
    )
    emit_event(
        EventKind.REQUEST_RECEIVED,
        contact_id=request.contact_id,
        request=request.pk,
        kind=request.kind,
    )
    enqueue_on_commit("privacy.tasks.act_on_request", request.pk)


def act_on_request(*, request_id: int) -> SubjectRequest:
    """Carry out what needs no decision: exports, withdrawals, erasure if auto-approved."""
    request = SubjectRequest.objects.get(pk=request_id)
    if request.status != SubjectRequest.Status.OPEN:
        return request
    if request.kind in (SubjectRequest.Kind.ACCESS, SubjectRequest.Kind.PORTABILITY):
        return _answer_with_export(request)
    if request.kind == SubjectRequest.Kind.WITHDRAW_CONSENT:
        if request.contact is not None:
            withdraw_all(
                contact=request.contact,
                channel=ConsentEvent.Channel.SUBJECT_REQUEST,
                wording="Data-subject request: withdraw every consent.",
                idempotency_key=f"request:{request.pk}",
            )
        with translation.override(requester_language(request)):
            result = gettext("Every consent you had given us is withdrawn.")
        return complete_request(request=request, actor=None, result=result)
    if request.kind in ERASING and settings.ERASURE_AUTO_APPROVE:
        return approve_erasure(request=request, actor=None)
    return request


def _answer_with_export(request: SubjectRequest) -> SubjectRequest:
    with translation.override(requester_language(request)):
        if request.contact is None:
            result = gettext("We hold no personal data about this address.")
            return complete_request(request=request, actor=None, result=result)
        export = export_subject(
            contact=request.contact, requested_by=None, channel="task", request=request
        )
        result = gettext(
            "Your data is ready: a zip with data.json (machine-readable) and index.html "
            "(readable). Download it within %(days)s days: %(url)s"
        ) % {"days": settings.EXPORT_LINK_MAX_AGE_DAYS, "url": download_url(export)}
    return complete_request(request=request, actor=None, result=result)


def extend_request(*, request: SubjectRequest, months: int, reason: str, actor: Actor) -> None:
    """Extend the deadline once by one or two months (art. 12(3)) and tell the requester why."""
    errors = {}
    if request.extended_due_at is not None:
        errors["months"] = "This request was already extended once."
    if months not in (1, 2):
        errors["months"] = "Extend by one or two months."
    if not reason.strip():
        errors["reason"] = "Give the reason: it is sent to the requester."
    if request.status != SubjectRequest.Status.OPEN:
        errors["months"] = "Only an open request can be extended."
    elif request.due_at is not None and request.due_at < timezone.now():
        # Art. 12(3): the requester must be told of an extension within the first month.
        errors["months"] = "The first month has passed: an extension can no longer be announced."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request.extended_due_at = add_months(request.due_at, months)
        request.extension_reason = reason
        request.save(update_fields=["extended_due_at", "extension_reason"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=request,
            channel="admin",
            fields=["extended_due_at", "extension_reason"],
        )
        transaction.on_commit(lambda: _mail_requester(request, "emails/request_extended.txt"))


def complete_request(*, request: SubjectRequest, actor: Actor, result: str) -> SubjectRequest:
    """Close the request as done and mail the requester the result.

    A rectification that corrected fields is passed on to every recipient of the person's data
    (art. 19), naming the fields corrected since the request came in; the answer lists the
    recipients if asked.
    """
    fields = rectified_fields(request) if request.kind == SubjectRequest.Kind.RECTIFICATION else []
    if not fields:
        # Nothing was corrected (or this is no rectification): there is nothing to pass on.
        return _close(request, actor=actor, result=result, status=SubjectRequest.Status.COMPLETED)
    with transaction.atomic():
        emit_event(
            EventKind.CONTACT_RECTIFIED,
            contact_id=request.contact_id,
            fields=fields,
            request=request.pk,
            recipients=recipients_of(request.contact_id),
        )
        result += _passed_on(request, recipient_names(request.contact_id))
        return _close(request, actor=actor, result=result, status=SubjectRequest.Status.COMPLETED)


def rectified_fields(request: SubjectRequest) -> list[str]:
    """Return the names of the contact's fields changed since the request was received."""
    changes = AuditEvent.objects.filter(
        object_type__model="contact",
        object_type__app_label="crm",
        object_id=str(request.contact_id),
        action=AuditEvent.Action.CHANGED,
        at__gte=request.received_at,
    ).values_list("details", flat=True)
    return sorted({name for details in changes for name in details.get("fields", [])})


def _passed_on(request: SubjectRequest, names: list[str]) -> str:
    """Return the answer's sentence naming the recipients told (art. 19), if the person asked."""
    if not request.wants_recipients:
        return ""
    with translation.override(requester_language(request)):
        if not names:
            return " " + gettext("Nobody else received your data from us.")
        return " " + gettext(
            "We passed this on to everyone who received your data from us: %(names)s."
        ) % {"names": ", ".join(names)}


def reject_request(*, request: SubjectRequest, actor: Actor, reason: str) -> SubjectRequest:
    """Refuse the request (manifestly unfounded or excessive, art. 12(5)) and say why."""
    if not reason.strip():
        raise ValidationError({"result": "Give the reason: it is sent to the requester."})
    return _close(request, actor=actor, result=reason, status=SubjectRequest.Status.REJECTED)


def _close(request: SubjectRequest, *, actor: Actor, result: str, status: str) -> SubjectRequest:
    if request.status in CLOSED:
        raise ValidationError(f"Request #{request.pk} is already closed.")
    with transaction.atomic():
        request.status = status
        request.result = result
        request.completed_at = timezone.now()
        if actor is not None and actor.is_authenticated:
            request.handler = actor
        request.save(update_fields=["status", "result", "completed_at", "handler", "language"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=request,
            channel="admin" if actor else "task",
            details={"status": status},
        )
        emit_event(
            EventKind.REQUEST_COMPLETED,
            contact_id=request.contact_id,
            request=request.pk,
            kind=request.kind,
            status=status,
        )
        transaction.on_commit(lambda: _mail_requester(request, "emails/request_closed.txt"))
    return request


def approve_erasure(*, request: SubjectRequest, actor: Actor) -> SubjectRequest:
    """Erase the requester through the registry and send them the certificate's summary."""
    if request.kind not in ERASING:
        raise ValidationError("Only erasure and exclusion requests erase.")
    _require_open(request)
    email = request.email
    language = requester_language(request)
    with transaction.atomic(), translation.override(language):
        if request.contact is not None:
            told = recipient_names(request.contact_id)
            certificate = erase_subject(
                contact=request.contact,
                requested_by=actor,
                channel="admin" if actor else "task",
                request=request,
            )
            request.refresh_from_db()
            held = ", ".join(
                f"{apps.get_model(label)._meta.verbose_name_plural} ({info['ground']})"
                for label, info in certificate.retained.items()
            )
            # Leftovers found by the scan are the officer's task (the certificate), not news.
            result = gettext(
                "Your data is erased: %(removed)s records removed. We keep only a coded trace "
                "of your address so you are never added again."
            ) % {"removed": sum(certificate.removed.values())}
            if held:
                result += " " + gettext("Kept because the law requires it: %(held)s.") % {
                    "held": held
                }
            result += _passed_on(request, told)
        else:
            suppress(email=email, reason=Suppression.Reason.ERASURE)
            result = gettext(
                "We held no data about this address. It is now on our do-not-contact "
                "list, so no list or form can add it."
            )
        # Erasure blanked the request's stored address; the answer still goes to it, once, and
        # in the person's language, which the erased contact no longer holds.
        request.email = email
        request.language = language
        return complete_request(request=request, actor=actor, result=result)


def restrict_processing(*, request: SubjectRequest, actor: Actor) -> SubjectRequest:
    """Restrict the requester's data (art. 18): kept, but no campaign, export or analytics."""
    _require_open(request)
    with transaction.atomic():
        if request.contact is not None:
            Contact.objects.filter(pk=request.contact_id).update(is_restricted=True)
            record_audit(
                actor=actor,
                action=AuditEvent.Action.CHANGED,
                obj=request.contact,
                channel="admin",
                fields=["is_restricted"],
            )
            emit_event(
                EventKind.CONTACT_RESTRICTED,
                contact_id=request.contact_id,
                request=request.pk,
                recipients=recipients_of(request.contact_id),
            )
        with translation.override(requester_language(request)):
            result = gettext(
                "Your data is restricted: we keep it but use it for nothing until the "
                "restriction is lifted, which we will tell you about first."
            )
        if request.contact is not None:
            result += _passed_on(request, recipient_names(request.contact_id))
        return complete_request(request=request, actor=actor, result=result)


def uphold_objection(*, request: SubjectRequest, actor: Actor) -> SubjectRequest:
    """Stop the processing objected to (art. 21) and all direct marketing to the requester."""
    _require_open(request)
    contact = request.contact
    with transaction.atomic():
        if contact is not None:
            for purpose in request.purposes.all():
                record_consent(
                    contact=contact,
                    purpose=purpose,
                    action=ConsentEvent.Action.WITHDRAW,
                    wording="Objection (art. 21) through a data-subject request.",
                    channel=ConsentEvent.Channel.SUBJECT_REQUEST,
                    recorded_by=actor,
                    idempotency_key=f"objection:{request.pk}",
                )
        suppress(email=request.email, reason=Suppression.Reason.OBJECTION)
        with translation.override(requester_language(request)):
            result = gettext(
                "We stopped the processing you objected to and will send you no marketing."
            )
        return complete_request(request=request, actor=actor, result=result)


def _require_open(request: SubjectRequest) -> None:
    """Refuse a closed request: a decision posted twice changes nothing the second time."""
    if request.status != SubjectRequest.Status.OPEN:
        raise ValidationError(f"Request #{request.pk} is not open.")


def expire_unverified_requests() -> int:
    """Close requests never verified within the configured hours; return how many."""
    limit = timezone.now() - timedelta(hours=settings.REQUEST_UNVERIFIED_EXPIRE_HOURS)
    return SubjectRequest.objects.filter(
        status=SubjectRequest.Status.UNVERIFIED, received_at__lt=limit
    ).update(status=SubjectRequest.Status.EXPIRED, verification_nonce="")


def send_verification_mail(*, request_id: int) -> None:
    """Mail the verification link of a still-unverified request."""
    request = SubjectRequest.objects.filter(
        pk=request_id, status=SubjectRequest.Status.UNVERIFIED
    ).first()
    if request is not None:
        _mail_requester(
            request,
            "emails/request_verify.txt",
            extra={
                "verify_url": verification_url(request),
                "link_minutes": settings.REQUEST_VERIFY_MAX_AGE // 60,
            },
        )


def _mail_requester(request: SubjectRequest, template: str, extra: dict | None = None) -> None:
    if not request.email:
        return
    context = {"request": request, "status_url": status_url(request), **(extra or {})}
    with translation.override(requester_language(request)):
        subject = translation.gettext("Your privacy request #%(id)s") % {"id": request.pk}
        EmailMessage(
            subject=subject, body=render_to_string(template, context), to=[request.email]
        ).send()
