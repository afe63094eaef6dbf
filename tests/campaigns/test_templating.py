import pytest
from django.core.exceptions import ValidationError

from campaigns.templating import check_template, render, template_problems


def test_the_allowed_variables_are_filled_and_escaped_in_html():
    source = '<p>Hi {{ first_name }}</p><a href="{{ unsubscribe_url }}">Stop</a>'
    values = {
        "first_name": '<script>alert("x")</script>',
        "unsubscribe_url": "https://x/u/1/?m=a&b",
    }
    html = render(source, values, html=True)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert 'href="https://x/u/1/?m=a&amp;b"' in html


def test_the_text_body_is_not_escaped_and_a_default_fills_an_empty_name():
    source = 'Dear {{ first_name|default("reader") }} & co'
    assert render(source, {"first_name": ""}, html=False) == "Dear reader & co"
    assert render(source, {"first_name": "Zoë"}, html=False) == "Dear Zoë & co"


def test_conditionals_choose_what_a_reader_sees():
    source = (
        "{% if company_name %}Hello team at {{ company_name|upper }}"
        '{% elif language == "nl" %}Hallo{% else %}Hello{% endif %}'
    )
    assert render(source, {"company_name": "Acme", "language": "en"}, html=False) == (
        "Hello team at ACME"
    )
    assert render(source, {"company_name": "", "language": "nl"}, html=False) == "Hallo"
    assert render(source, {"company_name": "", "language": "ro"}, html=False) == "Hello"


def test_an_unknown_variable_is_refused_with_its_line():
    source = "Hello {{ first_name }}\n\nYour e-mail: {{ email }}\n"
    with pytest.raises(ValidationError) as refused:
        check_template(source)
    assert refused.value.messages == [
        "Line 3: unknown variable 'email'; allowed: first_name, last_name, company_name, "
        "language, sender_name, sender_email, preferences_url, unsubscribe_url, privacy_url"
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{% include 'admin/base.html' %}", "other templates cannot be included"),
        ("{{ first_name.__class__ }}", "attributes are not available"),
        ("{{ first_name['x'] }}", "attributes are not available"),
        ("{{ first_name|safe }}", "unknown filter 'safe'"),
        ("{{ range(10) }}", "calls are not available"),
        ("{% for x in first_name %}{{ x }}{% endfor %}", "loops are not available"),
        ("{% set first_name = 'x' %}", "variables cannot be set"),
        ('{{ first_name|default:"there" }}', "not valid template syntax"),
        ("a {{ dangling", "not valid template syntax"),
        ("{{ contact.email }}", "unknown variable 'contact'"),
    ],
)
def test_anything_outside_the_allowed_language_is_refused_with_its_line(source, reason):
    problems = template_problems(f"first line\n{source}")
    assert {problem.line for problem in problems} == {2}
    assert any(reason in problem.reason for problem in problems)


def test_a_safe_template_passes_the_check():
    check_template(
        'Hi {{ first_name|default("there") }}, {# a note for staff #}'
        "{% if company_name %}{{ company_name }}{% endif %} {{ preferences_url }} "
        "{{ unsubscribe_url }} {{ privacy_url }}"
    )
