"""The campaign template language: Jinja2's sandbox over an allow-listed context, checked at save.

A campaign's subject and bodies, and the layouts around them, are written by staff and rendered
once per recipient, so they must not reach anything but what the recipient may see about
themselves. Jinja2's immutable sandboxed environment renders them (Django's template language is
not used: it reaches attributes and template tags of whatever it is given), and on top of the
sandbox every template is read into Jinja2's syntax tree when it is saved: only text, the allowed
variables, `{% if %}` / `{% elif %}` / `{% else %}` with comparisons, `and`, `or`, `not`, and the
allowed filters pass. Anything else (another variable, an attribute, a call, a loop, an include)
is refused with its line, so a template that saved always renders. In HTML every value is escaped.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from django.core.exceptions import ValidationError
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

VARIABLES = (
    "first_name",
    "last_name",
    "company_name",
    "language",
    "sender_name",
    "sender_email",
    "preferences_url",
    "unsubscribe_url",
    "privacy_url",
)
# Compiled templates kept per process: a subject, two bodies and a layout per language version.
COMPILED_TEMPLATES = 256
# A layout wraps the rendered body, which it places with {{ content }}.
LAYOUT_VARIABLES = (*VARIABLES, "content")


def _default(value: object, fallback: str = "") -> object:
    """Return the value, or the fallback when it is empty (an unknown first name)."""
    return value or fallback


FILTERS = {
    "default": _default,
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "capitalize": str.capitalize,
    "trim": str.strip,
}
ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.Filter,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.CondExpr,
    nodes.Concat,
)
REFUSED = {
    nodes.Getattr: "attributes are not available",
    nodes.Getitem: "attributes are not available",
    nodes.Call: "calls are not available",
    nodes.For: "loops are not available",
    nodes.Include: "other templates cannot be included",
    nodes.Import: "other templates cannot be imported",
    nodes.FromImport: "other templates cannot be imported",
    nodes.Extends: "other templates cannot be extended",
    nodes.Macro: "macros are not available",
    nodes.Assign: "variables cannot be set",
    nodes.AssignBlock: "variables cannot be set",
}


@dataclass(frozen=True)
class TemplateProblem:
    """One refused piece of a template and the line it is on."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.reason}"


@cache
def environment(*, html: bool) -> ImmutableSandboxedEnvironment:
    """Return the sandbox: the allowed filters only, no globals, unknown names an error."""
    env = ImmutableSandboxedEnvironment(
        autoescape=html, undefined=StrictUndefined, keep_trailing_newline=True
    )
    env.filters = dict(FILTERS)
    env.globals = {}
    return env


def template_problems(
    source: str, *, variables: tuple[str, ...] = VARIABLES
) -> list[TemplateProblem]:
    """Return every piece of the template outside the allowed language and context, by line."""
    try:
        tree = environment(html=False).parse(source)
    except TemplateSyntaxError as exc:
        return [TemplateProblem(exc.lineno or 1, f"not valid template syntax: {exc.message}")]
    problems = []
    for node in (tree, *tree.find_all(nodes.Node)):
        line = getattr(node, "lineno", 1) or 1
        if isinstance(node, nodes.Name) and node.name not in variables:
            allowed = ", ".join(variables)
            problems.append(
                TemplateProblem(line, f"unknown variable {node.name!r}; allowed: {allowed}")
            )
        elif isinstance(node, nodes.Filter) and node.name not in FILTERS:
            allowed = ", ".join(FILTERS)
            problems.append(
                TemplateProblem(line, f"unknown filter {node.name!r}; allowed: {allowed}")
            )
        elif not isinstance(node, ALLOWED_NODES):
            reason = REFUSED.get(type(node), f"{type(node).__name__.lower()} is not available")
            problems.append(TemplateProblem(line, reason))
    return problems


def check_template(source: str, *, variables: tuple[str, ...] = VARIABLES) -> None:
    """Raise ValidationError listing each refused line; return quietly when the template is safe."""
    problems = template_problems(source, variables=variables)
    if problems:
        raise ValidationError([str(problem) for problem in problems])


def used_variables(source: str) -> set[str]:
    """Return the variables a checked template uses."""
    tree = environment(html=False).parse(source)
    return {node.name for node in tree.find_all(nodes.Name)}


def render(source: str, values: Mapping[str, str], *, html: bool) -> str:
    """Render a checked template with the recipient's values; escape them for an HTML body."""
    return _compiled(source, html=html).render(**values)


@lru_cache(maxsize=COMPILED_TEMPLATES)
def _compiled(source: str, *, html: bool) -> Template:
    """Compile a template once per process: a campaign renders the same few for every reader."""
    return environment(html=html).from_string(source)


def render_in_layout(
    layout_source: str, content: str, values: Mapping[str, str], *, html: bool
) -> str:
    """Render a checked layout around already rendered content (which is not escaped again)."""
    placed = Markup(content) if html else content  # noqa: S704 -- rendered and escaped already.
    return render(layout_source, {**values, "content": placed}, html=html)
