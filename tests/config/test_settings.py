"""Settings come from the environment; production refuses to start without its secrets."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PRIVACY_HASH_KEY"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DATABASE_URL": "postgres://crm@db.example.org:5432/crm",
    "REDIS_URL": "redis://cache.example.org:6379/0",
    "ALLOWED_HOSTS": "crm.example.org",
    "SITE_URL": "https://crm.example.org",
    "DEBUG": "0",
}


def test_check_deploy_reports_nothing_with_production_values(tmp_path):
    env = {
        **PRODUCTION,
        "SECRET_KEY": secrets.token_urlsafe(60),
        "PRIVACY_HASH_KEY": secrets.token_urlsafe(40),
    }
    result = run_manage("check", "--deploy", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    result = run_manage("check", env=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_embedded_default_generates_secrets_once(tmp_path):
    first = run_manage("check", env={}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    run_manage("check", env={}, tmp_path=tmp_path)
    assert (tmp_path / "secret_key").read_text() == key


def test_a_malformed_boolean_is_refused_with_its_name(tmp_path):
    result = run_manage("check", env={"DEBUG": "maybe"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_security_limits_and_the_log_format_come_from_the_environment(tmp_path):
    env = {
        "LOGIN_FAILURES_PER_ACCOUNT": "7",
        "LOGIN_FAILURES_PER_ADDRESS": "40",
        "LOGIN_LOCKOUT_SECONDS": "600",
        "SESSION_IDLE_TIMEOUT": "900",
        "SESSION_COOKIE_AGE": "3600",
        "PUBLIC_POST_RATE_PER_IP": "30",
        "LINK_POST_RATE_PER_IP": "500",
        "API_RATE_PER_ACCOUNT": "100/minute",
        "API_RATE_PER_ADDRESS": "10/minute",
        "LOG_FORMAT": "json",
    }
    shown = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.LOGIN_FAILURES_PER_ACCOUNT,"
        " s.LOGIN_FAILURES_PER_ADDRESS, s.LOGIN_LOCKOUT_SECONDS, s.SESSION_IDLE_TIMEOUT,"
        " s.SESSION_COOKIE_AGE, s.PUBLIC_POST_RATE_PER_IP, s.LINK_POST_RATE_PER_IP,"
        " s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'],"
        " s.LOGGING['handlers']['stderr']['formatter'])",
        env=env,
        tmp_path=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split("\n")[-2] == (
        "7 40 600 900 3600 30 500 {'account': '100/minute', 'address': '10/minute'} json"
    )


def test_an_unknown_log_format_stops_start_up_naming_the_variable(tmp_path):
    result = run_manage("check", env={"LOG_FORMAT": "xml"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "LOG_FORMAT must be human or json." in result.stderr
