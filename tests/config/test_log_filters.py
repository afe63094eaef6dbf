import logging

from django.test import Client

from config.log_filters import RedactTokens, redact


def test_tokens_of_public_links_are_redacted_and_other_paths_kept():
    assert redact("Gone: /privacy/requests/download/MQ:1xUv:abc/") == (
        "Gone: /privacy/requests/download/[token]/"
    )
    assert redact("Bad Request: /u/WzEsbnVsbF0:1x:sig/") == "Bad Request: /u/[token]/"
    assert redact("Not Found: /admin/crm/contact/12/change/") == (
        "Not Found: /admin/crm/contact/12/change/"
    )


def test_a_4xx_on_a_signed_link_is_logged_without_its_token(caplog, db):
    caplog.handler.addFilter(RedactTokens())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().post("/privacy/requests/verify/tampered-secret-token/")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/privacy/requests/verify/[token]/" in logged
    assert "tampered-secret-token" not in logged


def test_the_configured_log_handler_redacts_tokens():
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RedactTokens) for h in handlers for f in h.filters)
