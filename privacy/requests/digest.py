"""The officer's view of the open requests: the queue's order and the daily digest to handlers."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from privacy.models import SubjectRequest


def requests_needing_attention() -> QuerySet[SubjectRequest]:
    """Return open requests, the nearest deadline first."""
    return SubjectRequest.objects.filter(status=SubjectRequest.Status.OPEN).order_by(
        Coalesce("extended_due_at", "due_at").asc(nulls_last=True), "received_at"
    )


def request_handler_addresses() -> list[str]:
    """Return the addresses of the active staff who may decide on requests, sorted, once each."""
    handlers = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, email__gt="")
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__codename="change_subjectrequest")
            | Q(groups__permissions__codename="change_subjectrequest")
        )
    )
    return sorted(set(handlers.values_list("email", flat=True)))


def send_digest(*, recipients: list[str]) -> int:
    """Mail the handlers the open requests, overdue and due within 7 days first; return count."""
    open_requests = list(requests_needing_attention())
    if not open_requests or not recipients:
        return 0
    now = timezone.now()
    context = {
        "overdue": [r for r in open_requests if r.deadline and r.deadline < now],
        "soon": [
            r for r in open_requests if r.deadline and now <= r.deadline < now + timedelta(days=7)
        ],
        "total": len(open_requests),
        "admin_url": f"{settings.SITE_URL}/admin/privacy/subjectrequest/",
    }
    EmailMessage(
        subject=f"Privacy requests: {len(context['overdue'])} overdue, "
        f"{len(context['soon'])} due within 7 days",
        body=render_to_string("emails/request_digest.txt", context),
        to=recipients,
    ).send()
    return len(open_requests)
