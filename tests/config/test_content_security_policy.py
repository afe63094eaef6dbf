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
@pytest.mark.parametrize(
    "path", ["/", "/subscribe/", "/privacy/", "/no-such-page/", "/healthz", "/admin/login/"]
)
def test_every_answer_allows_scripts_and_styles_from_this_site_only(client, path):
    policy = directives(client.get(path))

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"


@pytest.mark.django_db
def test_only_the_api_docs_allow_inline_styles_and_never_inline_script(admin_client):
    docs = directives(admin_client.get("/api/docs/"))
    schema = directives(admin_client.get("/api/schema/"))

    assert docs["script-src"] == "'self'"
    assert docs["style-src"] == "'self' 'unsafe-inline'"
    assert docs["frame-ancestors"] == "'none'"
    assert schema["style-src"] == "'self'"


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


def test_no_page_template_or_admin_flag_carries_a_style_attribute_or_element():
    pages = [p for p in our_templates() if "emails" not in p.parts]
    admin_code = [p for p in settings.BASE_DIR.glob("*/*admin.py") if ".venv" not in p.parts]

    assert pages and admin_code
    styled = [
        str(p)
        for p in pages + admin_code
        if re.search(r"\sstyle\s*=|<style[\s>]", p.read_text(), re.I)
    ]
    assert not styled
