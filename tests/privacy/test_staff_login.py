"""Staff login through the real admin pages: lock-out, two-factor enrolment and verification.

These tests log in with passwords and codes as people do; `force_login` (which the rest of the
suite uses, and which stands for a complete login) is not used here.
"""

import re
import time

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent
from tests.privacy.test_roles import PASSWORD, run_roles_migration
from tests.two_factor import confirmed_device, current_code

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
TWO_FACTOR = "/admin/two-factor/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def member(django_user_model):
    """Return a factory of staff users in a role (`superuser` for a superuser)."""
    if not Group.objects.filter(name="Privacy officer").exists():
        run_roles_migration()

    def make(role: str, username: str | None = None):
        user = django_user_model.objects.create_user(
            username=username or role.lower().replace(" ", "-"),
            email="staff@example.org",
            password=PASSWORD,
            is_staff=True,
            is_superuser=role == "superuser",
        )
        if role != "superuser":
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


def log_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# Lock-out --------------------------------------------------------------------------------------


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, member, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    user = member("Marketing")
    for _ in range(3):
        assert log_in(client, user.username, "not-the-password").status_code == 200
    refused = log_in(client, user.username)
    assert refused.status_code == 200
    assert "Too many failed logins for this account or from this address" in refused.text
    assert "Try again in 15 minutes" in refused.text
    assert not logged_in(client)
    # Another address cannot use the account either: the lock is on the account.
    other = Client(REMOTE_ADDR="192.0.2.44")
    assert "Too many failed logins" in log_in(other, user.username).text
    assert not logged_in(other)
    failures = AuditEvent.objects.filter(
        action=AuditEvent.Action.LOGIN_FAILED, object_id=str(user.pk)
    ).order_by("pk")
    assert [e.details for e in failures] == [{}, {}, {"locked": True}] + [{"locked_out": True}] * 2


def test_a_strangers_guesses_lock_the_stranger_out_of_the_account_not_its_owner(member):
    user = member("Marketing")
    stranger = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(5):
        log_in(stranger, user.username, "guess")

    assert "Too many failed logins" in log_in(stranger, user.username).text
    assert not logged_in(stranger)
    owner = Client(REMOTE_ADDR="203.0.113.9")
    assert log_in(owner, user.username).status_code == 302
    assert logged_in(owner)


def test_the_lock_ends_after_the_cool_off(client, member, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    settings.LOGIN_LOCKOUT_SECONDS = 1
    user = member("Marketing")
    log_in(client, user.username, "wrong")
    log_in(client, user.username, "wrong")
    assert "Too many failed logins" in log_in(client, user.username).text
    time.sleep(1.2)
    assert log_in(client, user.username).status_code == 302
    assert logged_in(client)


def test_failures_from_one_address_lock_that_address_for_every_account(member, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    user = member("Support")
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    for name in ("root", "administrator", "guest.user@example.org"):
        log_in(attacker, name, "guess")
    assert "Too many failed logins" in log_in(attacker, user.username).text
    assert not logged_in(attacker)
    colleague = Client(REMOTE_ADDR="203.0.113.9")
    assert log_in(colleague, user.username).status_code == 302
    # The unknown names are counted, not kept: the audit trail holds no trace of them.
    unknown = AuditEvent.objects.filter(details__known_account=False)
    assert unknown.count() == 3
    assert AuditEvent.objects.filter(object_id=str(user.pk), details={"locked_out": True}).exists()
    stored = repr(list(unknown.values()))
    assert "guest.user" not in stored and "administrator" not in stored


def test_a_successful_login_clears_the_account_failures(client, member, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    user = member("Marketing")
    log_in(client, user.username, "wrong")
    log_in(client, user.username, "wrong")
    assert log_in(client, user.username).status_code == 302
    client.post("/admin/logout/")
    log_in(client, user.username, "wrong")
    log_in(client, user.username, "wrong")
    assert log_in(client, user.username).status_code == 302


# Two-factor login ------------------------------------------------------------------------------


def test_marketing_and_support_log_in_with_a_password_only(client, member):
    for role in ("Marketing", "Support"):
        user = member(role)
        assert log_in(client, user.username).status_code == 302
        assert client.get("/admin/").status_code == 200
        client.post("/admin/logout/")


@pytest.mark.parametrize("role", ["Privacy officer", "Administrator", "superuser"])
def test_the_admin_and_the_api_refuse_a_password_only_session_of_a_role_that_needs_two_factor(
    client, member, role
):
    user = member(role)
    assert log_in(client, user.username).status_code == 302
    page = client.get("/admin/crm/contact/")
    assert page.status_code == 302
    assert page["Location"] == f"{TWO_FACTOR}?next=/admin/crm/contact/"
    api = client.get("/api/v1/contacts/")
    assert api.status_code == 403
    assert api.json() == {"detail": "Log in to the admin with your second factor first."}


def test_first_login_enrols_an_app_with_a_qr_code_and_issues_recovery_codes(client, member):
    officer = member("Privacy officer")
    log_in(client, officer.username)
    page = client.get(client.get("/admin/")["Location"])
    assert "Set up your authenticator app" in page.text
    pending = TOTPDevice.objects.get(user=officer, confirmed=False)
    key = re.search(r"<code>([A-Z2-7 ]+)</code>", page.text).group(1)
    assert key.replace(" ", "") and len(key.replace(" ", "")) == 32
    qr = client.get("/admin/two-factor/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.lstrip().startswith(b"<?xml") and b"<svg" in qr.content

    wrong = client.post(TWO_FACTOR, {"code": "000000", "next": "/admin/"})
    assert "That code is not right" in wrong.text
    done = client.post(TWO_FACTOR, {"code": current_code(pending), "next": "/admin/"})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.text)
    assert len(codes) == 10
    assert client.get("/admin/").status_code == 200
    assert TOTPDevice.objects.get(user=officer).confirmed
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.LOGIN, details={"second_factor": "enrolled"}
    ).exists()


def test_every_later_login_asks_for_a_code_and_a_recovery_code_works_once(member):
    officer = member("Administrator")
    device = confirmed_device(officer)
    codes = re.findall(
        r"<li><code>([a-z2-7]{8})</code></li>",
        _verified(officer).post("/admin/two-factor/recovery-codes/").text,
    )
    assert len(codes) == 10

    browser = Client()
    log_in(browser, officer.username)
    ask = browser.get(TWO_FACTOR + "?next=/admin/")
    assert "Enter your code" in ask.text and "Set up" not in ask.text
    before = browser.cookies["sessionid"].value
    assert browser.post(TWO_FACTOR, {"code": codes[0], "next": "/admin/"}).status_code == 302
    assert browser.get("/admin/").status_code == 200
    # The session seen before the second factor is not the one that passed it.
    assert browser.cookies["sessionid"].value != before

    again = Client()
    log_in(again, officer.username)
    reused = again.post(TWO_FACTOR, {"code": codes[0], "next": "/admin/"})
    assert "That code is not right, or it was used already" in reused.text
    assert again.get("/admin/").status_code == 302
    verified = again.post(TWO_FACTOR, {"code": current_code(device), "next": "/admin/"})
    assert verified["Location"] == "/admin/"
    assert again.get("/admin/").status_code == 200


def test_wrong_codes_count_against_the_account_lock_out(member, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    officer = member("Privacy officer")
    device = confirmed_device(officer)
    browser = Client()
    log_in(browser, officer.username)
    for code in ("111111", "222222", "333333"):
        browser.post(TWO_FACTOR, {"code": code})
    refused = browser.post(TWO_FACTOR, {"code": current_code(device)})
    assert refused.status_code == 403
    assert "Too many failed logins" in refused.text
    assert browser.get("/admin/").status_code == 302


def test_logging_in_again_with_the_password_does_not_wipe_the_wrong_codes(member, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    officer = member("Privacy officer")
    device = confirmed_device(officer)
    browser = Client()
    log_in(browser, officer.username)
    for code in ("111111", "222222"):
        browser.post(TWO_FACTOR, {"code": code})
    browser.post("/admin/logout/")
    log_in(browser, officer.username)  # the right password, the code still to come
    browser.post(TWO_FACTOR, {"code": "333333"})

    refused = browser.post(TWO_FACTOR, {"code": current_code(device)})

    assert refused.status_code == 403
    assert "Too many failed logins" in refused.text


def _verified(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_staff_can_still_log_in_when_the_cache_holding_the_counters_is_unreachable(
    client, member, settings
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    user = member("Support")
    assert log_in(client, user.username, "wrong").status_code == 200
    assert log_in(client, user.username).status_code == 302
    assert client.get("/admin/").status_code == 200
