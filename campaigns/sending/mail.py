"""The e-mail itself: one recipient's message with its links and headers, and a test send."""

from email.utils import formataddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html

from campaigns import links
from campaigns.models import Campaign, Message
from campaigns.sending.states import CHANNEL, check_campaign_content
from campaigns.templating import render
from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from crm.models import Contact
from privacy.accountability.controller import controller_footer


def template_values(
    personal_links: links.PersonalLinks, contact: Contact, token: str
) -> dict[str, str]:
    """Return the values the template language may use for one recipient."""
    return {
        "first_name": _one_line(contact.first_name),
        "preferences_url": personal_links.preferences_url(contact),
        "unsubscribe_url": personal_links.unsubscribe_url(contact, token),
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def from_address(campaign: Campaign) -> str:
    """Return the From header: the campaign's address with its client's name, or the default."""
    if not campaign.from_email:
        return settings.DEFAULT_FROM_EMAIL
    if campaign.client is not None:
        # A line break in the name (pasted from a spreadsheet) would be refused as a header
        # injection and stop the batch: one line, single spaces.
        return formataddr((" ".join(campaign.client.name.split()), campaign.from_email))
    return campaign.from_email


def build_email(
    campaign: Campaign,
    message: Message,
    contact: Contact,
    link_ids: dict[str, int],
    personal_links: links.PersonalLinks | None = None,
) -> EmailMultiAlternatives:
    """Render one recipient's e-mail with its unsubscribe headers, tracking and Message-ID."""
    token = message.token
    values = template_values(personal_links or links.PersonalLinks(campaign.client), contact, token)
    footer = controller_footer()
    html = _html_with_footer(render(campaign.html_body, values, html=True), footer)
    if contact.tracking_allowed:
        html = links.append_open_pixel(
            links.rewrite_links(html, token=token, link_ids=link_ids), token
        )
    unsubscribe = values["unsubscribe_url"]
    email = EmailMultiAlternatives(
        subject=_one_line(render(campaign.subject, values, html=False)),
        body=_text_with_footer(render(campaign.text_body, values, html=False), footer),
        from_email=from_address(campaign),
        to=[contact.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>, <{links.unsubscribe_mailto(token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-CRM-Message": token,
            "Message-ID": f"<{token}@{settings.SITE_DOMAIN}>",
        },
    )
    email.attach_alternative(html, "text/html")
    return email


def _text_with_footer(text: str, footer: str) -> str:
    """Append who is responsible and whom to ask (art. 13(1)(a)-(b)) to a plain-text body."""
    return f"{text.rstrip()}\n\n-- \n{footer}\n" if footer else text


def _html_with_footer(html: str, footer: str) -> str:
    """Put the same footer, escaped, at the end of the HTML body (before `</body>` if any)."""
    if not footer:
        return html
    block = format_html('<p class="controller">{}</p>', linebreaksbr(footer))
    at = html.lower().rfind("</body>")
    return f"{html}{block}" if at < 0 else f"{html[:at]}{block}{html[at:]}"


def send_test(*, campaign: Campaign, to: str, actor: Actor) -> None:
    """Send the campaign as it will look to a staff member's own address, marked as a test.

    Only the address of an active staff account is accepted: a test send is no way around the
    audience rules. Links go to their targets directly and nothing is tracked.
    """
    user_model = get_user_model()
    if not user_model.objects.filter(
        email__iexact=to.strip(), is_staff=True, is_active=True
    ).exists():
        raise ValidationError({"to": "Test sends go only to the address of a staff account."})
    check_campaign_content(
        subject=campaign.subject, html_body=campaign.html_body, text_body=campaign.text_body
    )
    name = getattr(actor, "first_name", "") or "Test"
    values = {
        "first_name": _one_line(name),
        "preferences_url": f"{settings.SITE_URL}/",
        "unsubscribe_url": f"{settings.SITE_URL}/",
    }
    email = EmailMultiAlternatives(
        subject=f"[Test] {_one_line(render(campaign.subject, values, html=False))}",
        body=render(campaign.text_body, values, html=False),
        from_email=from_address(campaign),
        to=[to.strip()],
    )
    email.attach_alternative(render(campaign.html_body, values, html=True), "text/html")
    email.send()
    record_audit(
        actor=actor,
        action=AuditEvent.Action.VIEWED,
        obj=campaign,
        channel=CHANNEL,
        details={"test_send": True},
    )
