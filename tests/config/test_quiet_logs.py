"""Quiet, useful logs: a refused request is one line with its status and reason."""

import io
import logging

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from config.log_filters import RedactPersonalData
from config.log_format import HumanFormatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """The configured stderr handler, writing lines for people into a buffer for the test."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactPersonalData) for f in h.filters)
    )
    buffer = io.StringIO()
    previous_stream, previous_formatter = handler.setStream(buffer), handler.formatter
    handler.setFormatter(HumanFormatter())
    yield lambda: [line for line in buffer.getvalue().splitlines() if line.strip()]
    handler.setStream(previous_stream)
    handler.setFormatter(previous_formatter)


def test_a_permission_refusal_is_one_line_with_status_and_reason(log_lines):
    clerk = get_user_model().objects.create_user("clerk", password="x" * 16, is_staff=True)
    browser = Client()
    browser.force_login(clerk)

    response = browser.get("/admin/crm/contact/")

    assert response.status_code == 403
    (line,) = log_lines()
    assert "GET /admin/crm/contact/ 403 Forbidden (Permission denied) status=403" in line
    assert "Traceback" not in line


def test_a_failed_csrf_check_is_one_line_with_its_reason(log_lines):
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x"})

    assert response.status_code == 403
    (line,) = log_lines()
    assert "POST /admin/login/ 403 Forbidden (CSRF cookie not set.) status=403" in line


def test_a_server_error_still_logs_its_traceback(log_lines):
    logging.getLogger("django.request").error(
        "Internal Server Error: %s", "/x/", exc_info=ValueError("boom"), extra={"status_code": 500}
    )
    assert any("ValueError: boom" in line for line in log_lines())


def test_the_two_factor_pages_carry_the_product_name(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_user_model().objects.create_superuser("root", "root@example.org", "a-long-password-1")
    browser = Client()
    browser.post("/admin/login/", {"username": "root", "password": "a-long-password-1"})

    page = browser.get("/admin/two-factor/").text

    assert "Set up your authenticator app" in page
    assert "Privacy-first CRM" in page
    assert "Django administration" not in page
    assert "<title>Two-factor login | CRM</title>" in page
