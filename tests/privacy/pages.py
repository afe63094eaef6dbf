"""Read public pages and e-mails the way a person does: boxes, buttons, errors, links."""

import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse


class _Tags(HTMLParser):
    """Collect the tags inside <main>: the header's language switcher is on every page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.in_main = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.in_main = True
        elif self.in_main:
            self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main = False


def text(response: HttpResponse) -> str:
    """Return the page's HTML as text."""
    return response.content.decode()


def tags(response: HttpResponse, name: str) -> list[dict[str, str | None]]:
    """Return the attributes of every `name` tag in the page's main content."""
    parser = _Tags()
    parser.feed(text(response))
    return [attrs for tag, attrs in parser.tags if tag == name]


def checkboxes(response: HttpResponse, name: str = "purposes") -> dict[str, bool]:
    """Map each checkbox value of the field to whether it is ticked."""
    return {
        attrs["value"]: "checked" in attrs
        for attrs in tags(response, "input")
        if attrs.get("type") == "checkbox" and attrs.get("name") == name
    }


def hidden_value(response: HttpResponse, name: str) -> str:
    """Return the value of the hidden input called `name`."""
    (value,) = [
        attrs["value"]
        for attrs in tags(response, "input")
        if attrs.get("type") == "hidden" and attrs.get("name") == name
    ]
    return value


def heading(response: HttpResponse) -> str:
    """Return the page's main heading."""
    match = re.search(r"<h1>(.*?)</h1>", text(response), re.S)
    assert match, "the page has no heading"
    return unescape(match.group(1)).strip()


def field_error(response: HttpResponse, field: str) -> str:
    """Return the error shown next to the form field, or '' when there is none."""
    match = re.search(
        rf'<div class="error" id="id_{field}-errors"[^>]*>(.*?)</div>', text(response)
    )
    return unescape(match.group(1)) if match else ""


def site_path(url: str) -> str:
    """Return the path of an absolute link to this site."""
    assert url.startswith(settings.SITE_URL), url
    return urlsplit(url).path


def link_in(body: str) -> str:
    """Return the path of the one link to this site in an e-mail body."""
    (url,) = set(re.findall(rf"{re.escape(settings.SITE_URL)}/\S+?/(?=[\s\"<]|$)", body))
    return site_path(url)
