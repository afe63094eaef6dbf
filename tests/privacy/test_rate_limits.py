"""Every public POST goes through the per-address guard; past it the visitor gets the 429 page."""

import pytest
from django.core import mail
from django.test import Client

from privacy.models import SubjectRequest
from tests.privacy.subscription_steps import mail_confirmations

pytestmark = pytest.mark.django_db

# Each public page that takes a POST, with a body for it. Bad link tokens are fine here: the guard
# counts every post, whatever the page makes of it afterwards.
FORM_POSTS = {
    "/subscribe/": {"email": "flood@example.net", "purposes": ["nothing"]},
    "/contact/": {"name": "", "email": "not an address", "message": ""},
    "/privacy/requests/new/": {"kind": "", "email": ""},
}
LINK_POSTS = {
    "/subscribe/confirm/made-up-token/": {},
    "/preferences/made-up-token/": {},
    "/u/made-up-token/": {"List-Unsubscribe": "One-Click"},
    "/privacy/requests/verify/made-up-token/": {},
}


def _flood(path: str, body: dict, *, limit: int):
    browser = Client(REMOTE_ADDR="198.51.100.23")
    for _ in range(limit):
        assert browser.post(path, body).status_code != 429
    return browser.post(path, body)


def _assert_429_page(response) -> None:
    assert response.status_code == 429
    assert "Too many requests" in response.text
    assert "Please try again in" in response.text
    assert 1 <= int(response["Retry-After"]) <= 3600
    # A plain page: no inline script or style for a Content-Security-Policy to refuse.
    assert "<script" not in response.text
    assert "<style" not in response.text and "style=" not in response.text


@pytest.mark.parametrize("path", FORM_POSTS)
def test_every_public_form_refuses_a_flood_of_posts_from_one_address(path, settings):
    settings.PUBLIC_POST_RATE_PER_IP = 3
    _assert_429_page(_flood(path, FORM_POSTS[path], limit=3))
    # Another visitor is not held back, and reading the page is not limited.
    assert Client(REMOTE_ADDR="203.0.113.5").post(path, FORM_POSTS[path]).status_code != 429
    assert Client(REMOTE_ADDR="198.51.100.23").get("/subscribe/").status_code == 200


@pytest.mark.parametrize("path", LINK_POSTS)
def test_every_page_behind_a_mailed_link_refuses_a_flood_of_posts(path, settings):
    settings.LINK_POST_RATE_PER_IP = 2
    _assert_429_page(_flood(path, LINK_POSTS[path], limit=2))


def test_a_refused_request_form_stores_nothing_and_mails_nobody(settings):
    settings.PUBLIC_POST_RATE_PER_IP = 1
    body = {"kind": "access", "email": "iris.smit@example.org"}
    browser = Client(REMOTE_ADDR="198.51.100.23")
    assert browser.post("/privacy/requests/new/", {"kind": "", "email": ""}).status_code == 200
    _assert_429_page(browser.post("/privacy/requests/new/", body))
    assert not SubjectRequest.objects.exists()
    assert not mail.outbox


def test_the_public_forms_keep_working_when_the_cache_is_unreachable(settings, newsletter):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on the discard port: every cache call fails at once.
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    settings.PUBLIC_POST_RATE_PER_IP = 1
    for _ in range(3):
        response = Client().post(
            "/subscribe/", {"email": "kees.bakker@example.org", "purposes": ["weekly_letter"]}
        )
        assert response.status_code == 302
    mail_confirmations()
    assert len(mail.outbox) == 3
