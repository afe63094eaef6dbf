"""The e-mail itself: one recipient's message with its links and headers, and a test send."""

import dataclasses
from email.utils import formataddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html

from campaigns import links
from campaigns.content import (
    Content,
    Rendered,
    content_for,
    contents,
    reader_values,
    render_content,
)
from campaigns.models import Campaign, Message
from campaigns.sending.states import CHANNEL, check_every_version
from campaigns.tracking.mail import tracked_html
from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from crm.models import Contact
from privacy.accountability.controller import controller_footer

# The metadata key a campaign e-mail carries its token in, for providers' events to return it.
TOKEN_METADATA = "crm_message"  # noqa: S105 (a key name, not a secret)


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
    versions: dict[str, Content] | None = None,
) -> EmailMultiAlternatives:
    """Render one recipient's e-mail in its language, with unsubscribe headers and tracking."""
    token = message.token
    personal_links = personal_links or links.PersonalLinks(campaign.client)
    unsubscribe = personal_links.unsubscribe_url(contact, token)
    values = reader_values(
        campaign,
        contact,
        preferences_url=personal_links.preferences_url(contact),
        unsubscribe_url=unsubscribe,
    )
    versions = versions or contents(campaign)
    content = versions.get(message.language) or versions[campaign.language]
    rendered = _with_footer(
        render_content(content, values, campaign.layout, variant=message.variant)
    )
    html = tracked_html(rendered.html, message=message, link_ids=link_ids)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=from_address(campaign),
        to=[contact.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>, <{links.unsubscribe_mailto(token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": content.language,
            "X-CRM-Message": token,
            "Message-ID": f"<{token}@{settings.SITE_DOMAIN}>",
        },
    )
    email.attach_alternative(html, "text/html")
    # django-anymail's backends pass it to the provider, whose events return it; SMTP ignores it.
    email.metadata = {TOKEN_METADATA: token}
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


def _with_footer(rendered: Rendered) -> Rendered:
    """The rendered message with the controller's identity at the end of both bodies."""
    footer = controller_footer()
    return dataclasses.replace(
        rendered,
        html=_html_with_footer(rendered.html, footer),
        text=_text_with_footer(rendered.text, footer),
    )


def preview(
    *, campaign: Campaign, language: str, contact: Contact | None = None, variant: str = ""
) -> Rendered:
    """Render the campaign as the contact (or a made-up reader) would get it in the language.

    The personal links point at the site's home page, so following one from a preview changes
    nothing for the person; nothing is tracked.
    """
    reader = contact or Contact(first_name="Alex", last_name="Example", language=language)
    home = f"{settings.SITE_URL}/"
    values = reader_values(campaign, reader, preferences_url=home, unsubscribe_url=home)
    content = content_for(campaign, language)
    return _with_footer(render_content(content, values, campaign.layout, variant=variant))


def send_test(*, campaign: Campaign, to: str, actor: Actor, language: str = "") -> None:
    """Send the campaign in a language as it will look to a staff member's own address, as a test.

    Only the address of an active staff account is accepted: a test send is no way around the
    audience rules. Links go to their targets directly and nothing is tracked.
    """
    user_model = get_user_model()
    if not user_model.objects.filter(
        email__iexact=to.strip(), is_staff=True, is_active=True
    ).exists():
        raise ValidationError({"to": "Test sends go only to the address of a staff account."})
    check_every_version(campaign)
    language = language or campaign.language
    reader = Contact(first_name=getattr(actor, "first_name", "") or "Test", language=language)
    rendered = preview(campaign=campaign, language=language, contact=reader)
    email = EmailMultiAlternatives(
        subject=f"[Test] {rendered.subject}",
        body=rendered.text,
        from_email=from_address(campaign),
        to=[to.strip()],
        headers={"Content-Language": content_for(campaign, language).language},
    )
    email.attach_alternative(rendered.html, "text/html")
    email.send()
    record_audit(
        actor=actor,
        action=AuditEvent.Action.VIEWED,
        obj=campaign,
        channel=CHANNEL,
        details={"test_send": True, "language": language},
    )
