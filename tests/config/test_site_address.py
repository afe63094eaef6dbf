"""The site's address chosen by `make run` is kept in var/ and used by commands in other shells."""

import email
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.site_address import choose_site_url, kept_site_url

ROOT = Path(__file__).resolve().parents[2]


def test_an_offered_address_is_kept_for_later_processes(tmp_path):
    assert choose_site_url(var_dir=tmp_path, offered="https://crm.example.org/", port=8000) == (
        "https://crm.example.org"
    )
    assert kept_site_url(tmp_path) == "https://crm.example.org"
    assert choose_site_url(var_dir=tmp_path, offered="", port=9000) == "https://crm.example.org"


def test_the_first_run_keeps_the_local_address_and_a_new_port_moves_it(tmp_path):
    assert choose_site_url(var_dir=tmp_path, offered="", port=8123) == "http://127.0.0.1:8123"
    assert choose_site_url(var_dir=tmp_path, offered="", port=8124) == "http://127.0.0.1:8124"
    assert kept_site_url(tmp_path) == "http://127.0.0.1:8124"


def test_a_malformed_address_is_refused_and_the_kept_one_stays(tmp_path):
    choose_site_url(var_dir=tmp_path, offered="http://crm.example.org", port=8000)
    with pytest.raises(ValueError, match="http or https address"):
        choose_site_url(var_dir=tmp_path, offered="crm.example.org:8000", port=8000)
    assert kept_site_url(tmp_path) == "http://crm.example.org"


def _run(*args: str, var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PRIVACY_HASH_KEY", "SITE_URL"}
    }
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "VAR_DIR": str(var_dir), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_mail_sent_from_another_shell_links_to_the_address_make_run_chose(tmp_path):
    # `make run PORT=8123` chose the address; a later shell has no SITE_URL in its environment.
    _run("-m", "config.site_address", "--port", "8123", var_dir=tmp_path)
    _run("manage.py", "migrate", "-v0", var_dir=tmp_path)
    _run("manage.py", "seed_demo", var_dir=tmp_path)
    _run("manage.py", "send_campaign", "1", "--foreground", var_dir=tmp_path)

    mails = [
        email.message_from_bytes(chunk)
        for path in (tmp_path / "mail").iterdir()
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")
        if chunk.strip()
    ]
    campaign_mails = [mail for mail in mails if mail["X-CRM-Message"]]
    assert campaign_mails
    for mail in campaign_mails:
        unsubscribe = mail["List-Unsubscribe"]
        assert "<http://127.0.0.1:8123/u/" in unsubscribe
        assert "<mailto:unsubscribe@example.org?" in unsubscribe
    for mail in mails:
        body = "".join(
            part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            for part in mail.walk()
            if not part.is_multipart()
        )
        links = set(re.findall(r"https?://[^\s\"<>]+", body))
        ours = {link for link in links if "northwind.example.org" not in link}
        assert all(link.startswith("http://127.0.0.1:8123/") for link in ours), ours
