"""The Content-Security-Policy header, and templates that leave it nothing to allow."""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATE_DIRS = [settings.BASE_DIR / "templates"] + [
    path for path in settings.BASE_DIR.glob("*/templates") if ".venv" not in path.parts
]


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/subscribe/", "/privacy/", "/no-such-page/", "/healthz"])
def test_every_public_answer_allows_scripts_and_styles_from_this_site_only(client, path):
    policy = directives(client.get(path))

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/schema/"])
def test_staff_pages_allow_inline_styles_but_never_inline_script(admin_client, path):
    policy = directives(admin_client.get(path))

    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in policy["default-src"]
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_the_api_docs_load_swagger_ui_from_a_script_file(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)

    assert scripts, "the docs page has no script at all"
    assert all("src=" in attrs and not body.strip() for attrs, body in scripts)
    (init,) = [attrs for attrs, _ in scripts if "script" in attrs.split("src=")[1]]
    init_url = re.search(r'src="([^"]+)"', init).group(1).replace("&amp;", "&")
    answer = admin_client.get(init_url)
    assert answer["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in answer.content


def our_templates() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html"))


def test_no_template_of_ours_carries_inline_script_or_event_handlers():
    offenders = []
    for path in our_templates():
        text = path.read_text()
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S | re.I):
            if body.strip() or "src=" not in attrs:
                offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text, re.I):
            offenders.append(f"{path}: event-handler attribute")

    assert our_templates()
    assert not offenders, offenders


def test_public_pages_carry_no_style_attribute():
    public = [p for p in our_templates() if "emails" not in p.parts and "admin" not in p.parts]

    assert public
    assert not [str(p) for p in public if re.search(r"\sstyle\s*=", p.read_text(), re.I)]
