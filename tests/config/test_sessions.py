"""Staff sessions end after an idle spell and at an absolute age, checked on the server."""

import time

import pytest

from config.sessions import SEEN_KEY, STARTED_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="marketing", password="made-up-passphrase-1", is_staff=True
    )
    client.force_login(user)
    return client


def _shift(client, key: str, seconds_ago: float) -> None:
    session = client.session
    session[key] = time.time() - seconds_ago
    session.save()


def test_an_active_session_within_both_limits_stays_open(staff_client, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    _shift(staff_client, SEEN_KEY, 590)
    _shift(staff_client, STARTED_KEY, settings.SESSION_COOKIE_AGE - 10)
    assert staff_client.get("/admin/").status_code == 200
    # The request counts as activity: the idle clock starts again.
    assert time.time() - staff_client.session[SEEN_KEY] < 60


def test_a_session_idle_for_longer_than_the_timeout_is_logged_out(staff_client, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    _shift(staff_client, SEEN_KEY, 601)
    response = staff_client.get("/admin/crm/contact/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in staff_client.session
    login_page = staff_client.get(response["Location"])
    assert "Your session expired. Please log in again." in login_page.text


def test_a_session_older_than_its_absolute_age_is_logged_out_however_active(staff_client, settings):
    settings.SESSION_COOKIE_AGE = 8 * 60 * 60
    _shift(staff_client, STARTED_KEY, 8 * 60 * 60 + 1)
    _shift(staff_client, SEEN_KEY, 5)
    assert staff_client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in staff_client.session


def test_an_expired_session_cannot_use_the_api_either(staff_client, settings):
    _shift(staff_client, SEEN_KEY, settings.SESSION_IDLE_TIMEOUT + 1)
    assert staff_client.get("/api/v1/contacts/").status_code in (401, 403)
    assert "_auth_user_id" not in staff_client.session
