"""The campaign template language: the person's first name and their two links, nothing more.

A campaign body is written by staff and rendered once per recipient, so it must not reach anything
but what the recipient may see about themselves: `{{ first_name }}`, `{{ preferences_url }}` and
`{{ unsubscribe_url }}`, each optionally with a fallback, `{{ first_name|default:"there" }}`. Any
other tag, variable or filter is refused when the campaign is saved, with its line number. Django's
template language is not used on purpose: it can reach attributes and template tags of whatever it
is given. In HTML bodies every value is HTML-escaped.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from django.core.exceptions import ValidationError

VARIABLES = ("first_name", "preferences_url", "unsubscribe_url")
# `{{ name }}` or `{{ name|default:"text" }}`; the fallback may not hold quotes or braces.
PLACEHOLDER = re.compile(r'\{\{\s*([a-z_]+)\s*(?:\|\s*default\s*:\s*"([^"{}]*)"\s*)?\}\}')
# Anything that looks like template syntax at all, to find what PLACEHOLDER does not allow.
TEMPLATE_SYNTAX = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{\{|\}\}|\{%|%\}", re.DOTALL)


@dataclass(frozen=True)
class TemplateProblem:
    """One refused piece of template syntax and the line it is on."""

    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.reason} ({self.text})"


def template_problems(source: str) -> list[TemplateProblem]:
    """Return every piece of template syntax outside the allowed variables, with its line."""
    problems = []
    for found in TEMPLATE_SYNTAX.finditer(source):
        text = found.group(0)
        line = source.count("\n", 0, found.start()) + 1
        shown = text if len(text) <= 60 else f"{text[:57]}…"
        placeholder = PLACEHOLDER.fullmatch(text)
        if placeholder is None:
            reason = (
                "only {{ first_name }}, {{ preferences_url }} and {{ unsubscribe_url }} may be "
                'used, optionally with |default:"text"'
            )
            problems.append(TemplateProblem(line, shown, reason))
        elif placeholder.group(1) not in VARIABLES:
            reason = f"unknown variable {placeholder.group(1)!r}; allowed: {', '.join(VARIABLES)}"
            problems.append(TemplateProblem(line, shown, reason))
    return problems


def check_template(source: str) -> None:
    """Raise ValidationError listing each refused line; return quietly when the template is safe."""
    problems = template_problems(source)
    if problems:
        raise ValidationError([str(problem) for problem in problems])


def render(source: str, values: Mapping[str, str], *, html: bool) -> str:
    """Fill the allowed variables of a checked template; escape the values for an HTML body."""

    def fill(found: re.Match) -> str:
        value = values.get(found.group(1), "") or (found.group(2) or "")
        return escape(value) if html else value

    return PLACEHOLDER.sub(fill, source)
