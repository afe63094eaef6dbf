import pytest

from privacy.models import NoticeVersion, Purpose
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory


@pytest.fixture
def notice(db) -> NoticeVersion:
    """The privacy statement in force: published, and the latest effective one."""
    return NoticeVersionFactory()


@pytest.fixture
def newsletter(db) -> Purpose:
    return PurposeFactory(code="weekly_letter", name="Weekly letter")


@pytest.fixture
def offers(db) -> Purpose:
    return PurposeFactory(
        code="partner_offers",
        name="Partner offers",
        consent_text="Yes, send me offers from your partners by e-mail.",
    )
