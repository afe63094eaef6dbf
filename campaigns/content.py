"""What a campaign says to one reader: the version in their language, inside the layout, inlined.

A campaign is written in its default language and may have one version per other language. Each
reader gets the version of their own language when there is one, else the default; the choice is
made in the database when the messages are created and kept on each message, so a version added
or removed later does not change what a queued message says. The layout (an e-mail template)
wraps the body with the header and the footer that carries the sender's identity and the privacy
links, and the styles are inlined into every element with css-inline, because many mail clients
drop a `<style>` block.
"""

from dataclasses import dataclass
from email.utils import parseaddr

import css_inline
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Case, F, Value, When
from django.db.models.expressions import Expression

from campaigns.models import Campaign, CampaignVersion, EmailLayout
from campaigns.templating import (
    LAYOUT_VARIABLES,
    check_template,
    render,
    render_in_layout,
    used_variables,
)
from crm.models import Contact

# What every layout must show: where the body goes, who sends, and the privacy links.
LAYOUT_REQUIRED_HTML = ("content", "sender_name", "privacy_url", "unsubscribe_url")
LAYOUT_REQUIRED_TEXT = ("sender_name", "privacy_url", "unsubscribe_url")


@dataclass(frozen=True)
class Content:
    """One language's subject and bodies of a campaign."""

    language: str
    subject: str
    html_body: str
    text_body: str
    subject_b: str = ""

    def subject_of(self, variant: str) -> str:
        """Return the subject of an A/B variant ("b" the second one; anything else the first)."""
        return self.subject_b if variant == "b" and self.subject_b else self.subject


@dataclass(frozen=True)
class Rendered:
    """One reader's subject, HTML and text, ready to be sent."""

    subject: str
    html: str
    text: str


def check_layout(*, html: str, text_footer: str) -> None:
    """Raise ValidationError, per field and by line, for a layout that is unsafe or lacks a part."""
    errors = {}
    for name, source, required in (
        ("html", html, LAYOUT_REQUIRED_HTML),
        ("text_footer", text_footer, LAYOUT_REQUIRED_TEXT),
    ):
        try:
            check_template(source, variables=LAYOUT_VARIABLES)
        except ValidationError as exc:
            errors[name] = exc.messages
            continue
        missing = [name for name in required if name not in used_variables(source)]
        if missing:
            shown = ", ".join(f"{{{{ {variable} }}}}" for variable in missing)
            errors[name] = [f"A template must show {shown}."]
    if errors:
        raise ValidationError(errors)


def contents(campaign: Campaign) -> dict[str, Content]:
    """Return the campaign's content per language, its default language included."""
    found = {
        campaign.language: Content(
            campaign.language,
            campaign.subject,
            campaign.html_body,
            campaign.text_body,
            campaign.subject_b,
        )
    }
    for version in CampaignVersion.objects.filter(campaign=campaign):
        if version.language != campaign.language:
            found[version.language] = Content(
                version.language,
                version.subject,
                version.html_body,
                version.text_body,
                version.subject_b,
            )
    return found


def content_for(campaign: Campaign, language: str) -> Content:
    """Return the version of the language, or the default one when there is none."""
    available = contents(campaign)
    return available.get(language) or available[campaign.language]


def message_language(campaign: Campaign) -> Expression:
    """Return the SQL expression, on contacts, of the language version each one gets."""
    others = [language for language in contents(campaign) if language != campaign.language]
    if not others:
        return Value(campaign.language)
    return Case(
        When(language__in=others, then=F("language")),
        default=Value(campaign.language),
    )


def sender_name(campaign: Campaign) -> str:
    """Return who sends: the client's name, or the display name of the default sender."""
    if campaign.client is not None:
        return campaign.client.name
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return name or address


def sender_email(campaign: Campaign) -> str:
    """Return the sender's address shown in the footer."""
    return campaign.from_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def reader_values(
    campaign: Campaign, contact: Contact, *, preferences_url: str, unsubscribe_url: str
) -> dict[str, str]:
    """Return the values the template language may use for one reader (the allow-listed context).

    `language` is added by `render_content`: the language of the version being sent.
    """
    return {
        "first_name": _one_line(contact.first_name),
        "last_name": _one_line(contact.last_name),
        "company_name": _one_line(contact.company.name) if contact.company_id else "",
        "sender_name": sender_name(campaign),
        "sender_email": sender_email(campaign),
        "preferences_url": preferences_url,
        "unsubscribe_url": unsubscribe_url,
        "privacy_url": f"{settings.SITE_URL}/privacy/",
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_content(
    content: Content, values: dict[str, str], layout: EmailLayout | None, *, variant: str = ""
) -> Rendered:
    """Render one reader's subject (of the A/B variant) and bodies in the layout, styles inlined.

    `language` is the version's language, so that a layout's footer speaks the body's language.
    """
    values = {**values, "language": content.language}
    html = render(content.html_body, values, html=True)
    text = render(content.text_body, values, html=False)
    css = ""
    if layout is not None:
        html = render_in_layout(layout.html, html, values, html=True)
        footer = render(layout.text_footer, values, html=False)
        text = f"{text.rstrip()}\n\n-- \n{footer}"
        css = layout.css
    return Rendered(
        subject=_one_line(render(content.subject_of(variant), values, html=False)),
        html=inline_css(html, css),
        text=text,
    )


def inline_css(html: str, css: str = "") -> str:
    """Move the styles of `<style>` blocks and `css` onto the elements; keep @media rules."""
    inliner = css_inline.CSSInliner(
        load_remote_stylesheets=False, keep_at_rules=True, extra_css=css or None
    )
    return inliner.inline(html)
