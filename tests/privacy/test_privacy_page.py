"""The public privacy statement: the version in force, its purposes, and readable old versions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.privacy.factories import NoticeVersionFactory, PurposeFactory
from tests.privacy.pages import heading, tags, text

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_statement_in_force_and_the_purposes_with_their_legal_bases(
    client, notice, newsletter
):
    service = PurposeFactory(
        name="Running your account",
        legal_basis="contract",
        description="Providing the service you signed up for.",
        consent_text="",
    )
    retired = PurposeFactory(name="Old raffle", is_active=False)

    page = client.get("/privacy/")

    assert page.status_code == 200
    assert heading(page) == notice.title
    assert f"Version {notice.version}, in force since" in text(page)
    for paragraph in notice.body.split("\n\n"):
        assert f"<p>{paragraph}</p>" in text(page)
    rows = text(page).split("<tbody>")[1].split("</tbody>")[0]
    assert (
        f'<tr><th scope="row">{newsletter.name}</th><td>Consent (art. 6(1)(a))</td>'
        f"<td>{newsletter.description}</td></tr>"
    ) in rows
    assert (
        f'<tr><th scope="row">{service.name}</th><td>Contract (art. 6(1)(b))</td>'
        f"<td>{service.description}</td></tr>"
    ) in rows
    assert retired.name not in rows


def test_an_earlier_version_stays_readable_at_its_own_address(client, notice):
    earlier = NoticeVersionFactory(
        effective_at=timezone.now() - timedelta(days=400),
        body="The statement as it stood last year.",
    )

    current = client.get("/privacy/")
    old = client.get(earlier.get_absolute_url())

    assert earlier.body not in text(current)
    assert earlier.get_absolute_url() in [a.get("href") for a in tags(current, "a")]
    assert old.status_code == 200
    assert f"<p>{earlier.body}</p>" in text(old)
    assert f"Version {earlier.version}, in force since" in text(old)
    assert "/privacy/" in [a.get("href") for a in tags(old, "a")]


def test_a_draft_version_is_neither_shown_nor_reachable(client, notice):
    draft = NoticeVersionFactory(published_at=None, body="A draft nobody has approved yet.")

    page = client.get("/privacy/")

    assert draft.body not in text(page)
    assert draft.get_absolute_url() not in text(page)
    assert f"<p>{notice.body.split(chr(10))[0]}</p>" in text(page)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get("/privacy/versions/no-such-version/").status_code == 404
