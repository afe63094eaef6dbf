import pytest
from django.core.exceptions import ValidationError

from core.normalisation import (
    normalise_country,
    normalise_domain,
    normalise_email,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Anna.Jansen@Example.ORG ", "anna.jansen@example.org"),
        ("jan@bücher.example", "jan@xn--bcher-kva.example"),
        ("Ioana@EXAMPLE.net", "ioana@example.net"),
    ],
)
def test_email_is_trimmed_lowercased_and_idna_encoded(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "anna", "anna@", "@example.org", "an na@example.org"])
def test_invalid_email_is_refused_with_a_clear_message(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_email(raw)
    assert "valid e-mail address" in exc.value.messages[0]


def test_phone_is_stored_in_e164_reading_local_numbers_in_the_region():
    assert normalise_phone("020 7946 0123", region="GB") == "+442079460123"
    assert normalise_phone("+44 20 7946 0123", region="NL") == "+442079460123"
    assert normalise_phone("06 12345678", region="NL") == "+31612345678"


@pytest.mark.parametrize("raw", ["12", "not a phone", "+31 0000"])
def test_invalid_phone_is_refused(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_phone(raw, region="NL")
    assert "phone number" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("nl", "NL"), ("NLD", "NL"), ("Netherlands", "NL"), ("Romania", "RO"), ("", "")],
)
def test_country_accepts_codes_and_english_names(raw, expected):
    assert normalise_country(raw) == expected


def test_unknown_country_is_refused():
    with pytest.raises(ValidationError) as exc:
        normalise_country("Atlantis")
    assert "Unknown country" in exc.value.messages[0]


def test_domain_is_taken_from_a_website_address():
    assert normalise_domain("https://www.Brightlane.example.org/about") == "brightlane.example.org"
