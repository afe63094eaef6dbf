"""The privacy officer's decision on an open data-subject request (GDPR art. 12-22).

The officer picks one decision and, where it needs one, writes the text the requester is sent:
the answer, the reason for an extension (art. 12(3)) or the reason for a refusal (art. 12(5)).
Each decision is carried out by the request function that also audits it and mails the requester,
so the admin only parses the form.
"""

from django.core.exceptions import ValidationError
from django.db import models

from core.actors import Actor
from privacy.models import SubjectRequest
from privacy.requests.subject_requests import (
    approve_erasure,
    complete_request,
    extend_request,
    rectified_fields,
    reject_request,
    restrict_processing,
    uphold_objection,
)


class Decision(models.TextChoices):
    """What the officer can decide on an open request."""

    COMPLETE = "complete", "Complete: send the answer below"
    APPROVE_ERASURE = (
        "approve_erasure",
        "Approve the erasure (or exclusion) and send the certificate",
    )
    RESTRICT = "restrict", "Restrict processing and tell the requester"
    UPHOLD_OBJECTION = (
        "uphold_objection",
        "Uphold the objection: stop that processing and all marketing",
    )
    EXTEND = "extend", "Extend the deadline, giving the reason below"
    REJECT = "reject", "Reject (manifestly unfounded or excessive), giving the reason below"


def suggested_answer(*, request: SubjectRequest) -> str:
    """Return the answer to offer the officer: for a rectification, the fields corrected since."""
    if request.kind != SubjectRequest.Kind.RECTIFICATION or not request.contact:
        return ""
    fields = rectified_fields(request)
    if not fields:
        return ""
    return "We corrected your data: " + ", ".join(f.replace("_", " ") for f in fields) + "."


def carry_out_decision(
    *, request: SubjectRequest, actor: Actor, decision: str, months: int | None, text: str
) -> None:
    """Carry out the officer's decision through the request function that audits and mails it.

    Raise ValidationError for an unknown decision, a missing answer or reason, or a request the
    decision does not apply to.
    """
    if decision == Decision.COMPLETE:
        if not text.strip():
            raise ValidationError("Write the answer: it is mailed to the requester.")
        complete_request(request=request, actor=actor, result=text)
    elif decision == Decision.APPROVE_ERASURE:
        approve_erasure(request=request, actor=actor)
    elif decision == Decision.RESTRICT:
        restrict_processing(request=request, actor=actor)
    elif decision == Decision.UPHOLD_OBJECTION:
        uphold_objection(request=request, actor=actor)
    elif decision == Decision.EXTEND:
        extend_request(request=request, months=months or 0, reason=text, actor=actor)
    elif decision == Decision.REJECT:
        reject_request(request=request, actor=actor, reason=text)
    else:
        raise ValidationError(f"Unknown decision {decision!r}.")
