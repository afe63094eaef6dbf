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
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'href="https://x/u/1/?m=a&amp;b"' in html


def test_the_text_body_is_not_escaped_and_a_default_fills_an_empty_name():
    source = 'Dear {{first_name|default:"reader"}} & co'
    assert render(source, {"first_name": ""}, html=False) == "Dear reader & co"
    assert render(source, {"first_name": "Zoë"}, html=False) == "Dear Zoë & co"


def test_an_unknown_variable_is_refused_with_its_line():
    source = "Hello {{ first_name }}\n\nYour e-mail: {{ email }}\n"
    with pytest.raises(ValidationError) as refused:
        check_template(source)
    assert refused.value.messages == [
        "Line 3: unknown variable 'email'; allowed: first_name, preferences_url, "
        "unsubscribe_url ({{ email }})"
    ]


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}",
        "{{ first_name.upper }}",
        "{{ first_name|safe }}",
        "{# a comment #}",
        "{{ contact.email }}",
        "a {{ dangling",
    ],
)
def test_anything_else_that_looks_like_template_syntax_is_refused(source):
    problems = template_problems(f"first line\n{source}")
    assert problems
    assert problems[0].line == 2


def test_a_safe_template_passes_the_check():
    check_template(
        'Hi {{ first_name|default:"there" }}, {{ preferences_url }} {{ unsubscribe_url }}'
    )
