"""The fast paths of core.normalisation give exactly the verdicts of the full checks."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from core.normalisation import (
    _plain_address,
    _read_phone,
    _validated_email,
    normalise_email,
    normalise_phone,
)

ADDRESSES = [
    "anna@example.org",
    "  Anna.Jansen@Example.ORG ",
    "Ioana@EXAMPLE.net",
    "person15@example.org",
    "first_last+tag@sub.example.co.uk",
    "a-b@x-y.example.com",
    "o'brien@example.org",
    "anna@example.org\r\n",
    "anna@example.org\x01",
    "an\u200bna@example.org",
    "an\u00a0na@example.org",
    "an\x00na@example.org",
    "\ufeffanna@example.org",
    "anna@exam\u00adple.org",
    "jan@bücher.example",
    "jan@xn--bcher-kva.example",
    "jan@ab--cd.example",
    "jan@xn--zz.example",
    "Anna <anna@example.org>",
    "<ioana@example.net>",
    "tester@mail.test",
    "x@printer.local",
    "x@localhost",
    "x@host.onion",
    "x@in-addr.arpa",
    "x@example.invalid",
    "x@test",
    "x@example.123",
    "x@example",
    "x@-example.org",
    "x@example-.org",
    "x@exa_mple.org",
    "x@example..org",
    "x@.example.org",
    "x@example.org.",
    ".anna@example.org",
    "anna.@example.org",
    "an..na@example.org",
    "an na@example.org",
    '"anna"@example.org',
    "anna@",
    "@example.org",
    "@",
    "anna",
    "ánna@example.org",
    "anna@example.org@example.org",
    "a" * 64 + "@example.org",
    "a" * 65 + "@example.org",
    "a@" + "b" * 63 + ".org",
    "a@" + "b" * 64 + ".org",
    "a@" + ".".join(["b" * 60] * 4) + ".org",
    "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".org",
    "x@" + "c" * 64 + "." + "d" * 64,
    "x@example." + "o" * 63,
    "x@example." + "o" * 64,
]


def _verdict(check, *args, **kwargs):
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        return (exc.code, exc.messages)


@pytest.mark.parametrize("raw", ADDRESSES)
def test_an_address_gets_the_verdict_email_validator_gives(raw):
    assert _verdict(normalise_email, raw) == _verdict(_validated_email, raw.strip())


def test_the_common_addresses_take_the_fast_path():
    plain = ["anna@example.org", "Anna.Jansen@Example.ORG", "first_last+tag@sub.example.co.uk"]
    assert [_plain_address(raw) for raw in plain] == [raw.lower() for raw in plain]
    assert _plain_address("jan@xn--bcher-kva.example") == ""
    assert _plain_address("x@printer.local") == ""


PHONES = [
    ("06 12345678", "NL"),
    ("06 12345678", ""),
    ("020 7946 0123", "GB"),
    ("020 7946 0123", ""),
    ("+44 20 7946 0123", "NL"),
    ("+31 20 123 4567 ext. 123", ""),
    ("+31 20 123 4567 ext. 12345678901234567890", ""),
    ("030 1234567", ""),
    ("0123", ""),
    ("not a number", "NL"),
    ("", "NL"),
    ("612345678", ""),
    ("+1 650 253 0000", ""),
    ("(650) 253-0000", "us"),
]


@pytest.mark.parametrize(("raw", "region"), PHONES)
def test_a_phone_gets_the_same_verdict_read_again_or_under_other_settings(raw, region):
    for default, ambiguity in (("NL", ["NL", "BE", "DE", "GB"]), ("GB", ["GB", "US"])):
        with override_settings(DEFAULT_PHONE_REGION=default, PHONE_AMBIGUITY_REGIONS=ambiguity):
            full = _verdict(_read_phone, raw.strip(), region.upper(), default, tuple(ambiguity))
            first = _verdict(normalise_phone, raw, region=region)
            again = _verdict(normalise_phone, raw, region=region)
        assert first == again == full
