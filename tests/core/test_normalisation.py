import pytest
from django.core.exceptions import ValidationError

from core import normalisation
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


DOMAINS = [
    "example.org",
    "company12345.example.org",
    "a.b.c.d.example.net",
    "123.example.org",
    "localhost",
    "x",
    "1-2.example.org",
    "ab--cd.example.org",
    "xn--bcher-kva.example",
    "xn--zz.example",
    "-start.example.org",
    "end-.example.org",
    "a..b.example",
    ".example.org",
    "example.org.",
    "under_score.example.org",
    "bücher.example",
    "straße.example",
    "exa mple.org",
    "a" * 63 + ".example.org",
    "a" * 64 + ".example.org",
    ".".join(["a" * 62] * 4)[:253],
    ".".join(["a" * 62] * 4)[:252] + "a.b",
    "münchen.example.org",
    "例え.テスト",
]


def _verdict(call, *args):
    try:
        return call(*args)
    except ValidationError as exc:
        return ("refused", exc.code, exc.messages)


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_plain_ascii_domain_is_kept_as_idna_would_encode_it(domain):
    # The same verdict as asking idna for every domain (the path before the plain-domain check).
    def through_idna(raw: str) -> str:
        try:
            return normalisation._ascii_domain(raw)
        except normalisation.idna.IDNAError as exc:
            raise ValidationError(
                "Enter a valid domain name, like example.org.", "invalid"
            ) from exc

    assert _verdict(normalise_domain, domain) == _verdict(through_idna, domain)


# Addresses as they really come ------------------------------------------------------------------


def test_the_display_name_form_gives_its_address():
    assert normalise_email("Anna Jansen <Anna.Jansen@Example.ORG>") == "anna.jansen@example.org"
    assert normalise_email("<ioana@example.net>") == "ioana@example.net"


def test_a_local_part_over_64_characters_is_refused():
    assert normalise_email("a" * 64 + "@example.org") == "a" * 64 + "@example.org"
    with pytest.raises(ValidationError) as exc:
        normalise_email("a" * 65 + "@example.org")
    assert "too long before the @-sign (1 character too many)" in exc.value.messages[0]


def test_an_address_over_254_octets_is_refused_also_once_its_domain_is_encoded():
    domain = ".".join(["b" * 63, "c" * 63, "d" * 57]) + ".org"  # 187 characters
    fits = "a" * 64 + "@" + domain[1:]  # 253
    assert normalise_email(fits) == fits
    with pytest.raises(ValidationError) as exc:
        normalise_email("a" * 64 + "@" + domain + "x")  # 255
    assert "too long" in exc.value.messages[0]
    # 128 characters as typed, 308 once each "ü" is written in IDNA ("xn--tda").
    encoded_too_long = "a" * 64 + "@" + ".".join(["ü"] * 30) + ".org"
    with pytest.raises(ValidationError) as exc:
        normalise_email(encoded_too_long)
    assert "too long" in exc.value.messages[0]


@pytest.mark.parametrize(
    "domain",
    [
        "mail.test",
        "example.invalid",
        "localhost",
        "intranet.localhost",
        "printer.local",
        "hidden.onion",
        "4.3.2.1.in-addr.arpa",
    ],
)
def test_special_use_domains_are_refused_as_receiving_no_mail(domain):
    with pytest.raises(ValidationError) as exc:
        normalise_email(f"anna@{domain}")
    assert f"The domain {domain} is reserved" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("an\u200bna@example.org", "zero width space, U+200B"),
        ("anna@exam\u00adple.org", "soft hyphen, U+00AD"),
        ("\ufeffanna@example.org", "zero width no-break space, U+FEFF"),
        ("an\u00a0na@example.org", "no-break space, U+00A0"),
        ("anna@example.org\x01", "control character, U+0001"),
    ],
)
def test_an_invisible_character_is_refused_by_name_never_dropped(raw, named):
    with pytest.raises(ValidationError) as exc:
        normalise_email(raw)
    assert exc.value.code == "invisible"
    assert named in exc.value.messages[0]


# Phones -----------------------------------------------------------------------------------------


def test_a_national_number_with_no_country_is_refused_as_ambiguous(settings):
    settings.DEFAULT_PHONE_REGION = "NL"
    with pytest.raises(ValidationError) as exc:
        normalise_phone("01 23 45 67 89", region="")
    assert exc.value.code == "ambiguous"
    assert "FR" in exc.value.messages[0]
    assert normalise_phone("01 23 45 67 89", region="FR") == "+33123456789"


def test_with_no_country_the_default_region_reads_only_numbers_no_other_country_claims(settings):
    settings.DEFAULT_PHONE_REGION = "NL"
    settings.PHONE_AMBIGUITY_REGIONS = ["NL", "GB"]
    assert normalise_phone("020 123 4567", region="") == "+31201234567"
    settings.PHONE_AMBIGUITY_REGIONS = ["NL", "DE"]
    with pytest.raises(ValidationError):
        normalise_phone("020 123 4567", region="")


def test_a_number_with_its_prefix_needs_no_country():
    assert normalise_phone("+33 1 23 45 67 89", region="") == "+33123456789"
    assert normalise_phone("0033 1 23 45 67 89", region="") == "+33123456789"


@pytest.mark.parametrize("written", ["ext. 123", "x123", "extension 123", "#123"])
def test_an_extension_is_kept_after_the_number(written):
    assert normalise_phone(f"020 123 4567 {written}", region="NL") == "+31201234567;ext=123"


def test_an_extension_too_long_to_store_is_refused():
    with pytest.raises(ValidationError) as exc:
        normalise_phone("+31 20 123 4567 ext. 1234567890123456", region="")
    assert "at most 15 digits" in exc.value.messages[0]
