"""A segment's rules: groups of conditions joined by AND or OR, nested, turned into one SQL filter.

A rule set is JSON, so it is saved with the segment and sent by the admin's builder as it is:

    {"match": "all" | "any", "rules": [condition or group, ...]}
    condition: {"field": "country", "op": "in", "value": ["NL", "BE"]}

Groups nest up to `MAX_DEPTH` levels. Every field has a kind, every kind its operators and the
shape of its value; a rule set is checked whole before it is saved and every problem is named
with where it is ("Group 1, condition 2: …"), so nothing half-valid is ever stored. Conditions on
related rows (tags, provenance, consent, engagement) are EXISTS subqueries, so a person matching
twice is one row and the whole segment stays one query for the database to plan.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, Model, OuterRef, Q
from django.utils import timezone
from django_countries import countries

from campaigns.models import MAX_ACTIVE_WITHIN_DAYS, Campaign, MessageEvent
from crm.models import Client, Contact, ContactList, ContactSource, ImportBatch, Source, Tag
from privacy.models import ConsentEvent, ConsentState, Purpose

MAX_DEPTH = 3
MAX_CONDITIONS = 100
MATCHES = ("all", "any")
# The builder offers the newest rows of a related table; companies are chosen by search in the
# criteria above the rules, where the admin's autocomplete reaches every one.
CHOICES_SHOWN = 500

TEXT_OPS = ("equals", "not_equals", "contains", "not_contains", "starts_with")
CHOICE_OPS = ("in", "not_in")
EMPTY_OPS = ("is_empty", "is_not_empty")
DATE_OPS = ("within_days", "not_within_days", "before", "after")
SET_OPS = ("any_of", "none_of")
CONSENT_OPS = ("is", "is_not")
ENGAGEMENT_OPS = (
    "ever",
    "never",
    "in_campaigns",
    "not_in_campaigns",
    "within_days",
    "not_within_days",
)
CONSENT_VALUES = {
    "granted": ConsentEvent.Action.GRANT,
    "refused": ConsentEvent.Action.REFUSE,
    "withdrawn": ConsentEvent.Action.WITHDRAW,
    "none": None,
}


@dataclass(frozen=True)
class Field:
    """A field conditions may test: its label, kind, the ORM path and, for choices, the values."""

    label: str
    kind: str
    path: str = ""
    choices: Callable[[], list[tuple[str, str]]] | None = None
    model: type[Model] | None = None


def _language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


def _country_choices() -> list[tuple[str, str]]:
    return list(countries)


def _ids_of(model: type[Model]) -> Callable[[], list[tuple[str, str]]]:
    """Return a function listing the model's newest rows as (id, label), for the builder."""

    def choices() -> list[tuple[str, str]]:
        return [(str(row.pk), str(row)) for row in model.objects.order_by("-pk")[:CHOICES_SHOWN]]

    return choices


FIELDS: dict[str, Field] = {
    "first_name": Field("First name", "text", "first_name"),
    "last_name": Field("Last name", "text", "last_name"),
    "email": Field("E-mail address", "text", "email"),
    "job_title": Field("Job title", "text", "job_title"),
    "country": Field("Country", "choice", "country", _country_choices),
    "language": Field("Language", "choice", "language", _language_choices),
    "relationship": Field(
        "Relationship", "choice", "relationship", lambda: list(Contact.Relationship.choices)
    ),
    "created_at": Field("Added to the CRM", "date", "created_at"),
    "last_activity_at": Field("Own last action", "date", "last_activity_at"),
    "company.name": Field("Company name", "text", "company__name"),
    "company.industry": Field("Company industry", "text", "company__industry"),
    "company.country": Field("Company country", "choice", "company__country", _country_choices),
    "company.domain": Field("Company domain", "text", "company__domain"),
    "tags": Field("Tags", "tags", "tags", _ids_of(Tag), Tag),
    "lists": Field("Static lists", "tags", "lists", _ids_of(ContactList), ContactList),
    "source": Field("Provenance: source", "provenance", "source_id", _ids_of(Source), Source),
    "source.kind": Field(
        "Provenance: kind of source",
        "provenance",
        "source__kind",
        lambda: list(Source.Kind.choices),
    ),
    "source.client": Field(
        "Provenance: client", "provenance", "source__client_id", _ids_of(Client), Client
    ),
    "import_batch": Field(
        "Provenance: list import",
        "provenance",
        "import_batch_id",
        _ids_of(ImportBatch),
        ImportBatch,
    ),
    "opened": Field("Opened a campaign", "engagement", MessageEvent.Kind.OPENED),
    "clicked": Field("Clicked in a campaign", "engagement", MessageEvent.Kind.CLICKED),
}
KIND_OPS = {
    "text": TEXT_OPS + EMPTY_OPS,
    "choice": CHOICE_OPS + EMPTY_OPS,
    "date": DATE_OPS + EMPTY_OPS,
    "tags": (*SET_OPS, "all_of"),
    "provenance": SET_OPS,
    "consent": CONSENT_OPS,
    "engagement": ENGAGEMENT_OPS,
}
CONSENT_PREFIX = "consent."


def field_of(name: str) -> Field | None:
    """Return the field a condition names (consent fields are one per purpose), or None."""
    if name.startswith(CONSENT_PREFIX):
        purpose = Purpose.objects.filter(code=name.removeprefix(CONSENT_PREFIX)).first()
        return _consent_field(purpose) if purpose is not None else None
    return FIELDS.get(name)


def _consent_field(purpose: Purpose) -> Field:
    return Field(f"Consent: {purpose.name}", "consent", purpose.code, _consent_choices)


def _consent_choices() -> list[tuple[str, str]]:
    return [
        ("granted", "Granted"),
        ("refused", "Refused"),
        ("withdrawn", "Withdrawn"),
        ("none", "Never asked"),
    ]


def catalogue() -> list[dict[str, Any]]:
    """Return every field with its operators and choices, for the admin's rule builder."""
    fields = dict(FIELDS)
    for purpose in Purpose.objects.order_by("name"):
        fields[f"{CONSENT_PREFIX}{purpose.code}"] = _consent_field(purpose)
    campaign_choices = _ids_of(Campaign)()
    return [
        {
            "name": name,
            "label": spec.label,
            "kind": spec.kind,
            "ops": list(KIND_OPS[spec.kind]),
            "choices": spec.choices() if spec.choices else [],
            "campaigns": campaign_choices if spec.kind == "engagement" else [],
        }
        for name, spec in fields.items()
    ]


# How operators read, in the builder and in a segment's rules in words.
OP_WORDS = {
    "equals": "is",
    "not_equals": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "in": "is one of",
    "not_in": "is none of",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "within_days": "within the last … days",
    "not_within_days": "not within the last … days",
    "before": "before",
    "after": "after",
    "any_of": "any of",
    "none_of": "none of",
    "all_of": "all of",
    "is": "is",
    "is_not": "is not",
    "ever": "ever",
    "never": "never",
    "in_campaigns": "in",
    "not_in_campaigns": "not in",
}


def describe_rules(rules: dict) -> str:
    """Return a checked rule set in words, groups in brackets, for lists and the audience page."""
    if not rules:
        return ""
    return _describe_group(rules, top=True)


def _describe_group(group: dict, *, top: bool = False) -> str:
    joiner = " AND " if group["match"] == "all" else " OR "
    parts = [
        _describe_group(child) if "rules" in child else _describe_condition(child)
        for child in group["rules"]
    ]
    text = joiner.join(parts)
    return text if top or len(parts) == 1 else f"({text})"


def _describe_condition(condition: dict) -> str:
    spec = field_of(condition["field"])
    if spec is None:
        return f"{condition['field']} (no longer known)"
    op, value = condition["op"], condition.get("value")
    words = f"{spec.label} {OP_WORDS[op]}"
    if value in (None, "", []):
        return words
    if op in ("within_days", "not_within_days"):
        return words.replace("…", str(value))
    if not isinstance(value, list):
        shown = dict(spec.choices()).get(value, value) if spec.kind == "consent" else value
        return f'{words} "{shown}"' if op in TEXT_OPS else f"{words} {shown}"
    labels = _labels(spec, op, value)
    return f"{words} {', '.join(labels)}"


def _labels(spec: Field, op: str, value: list) -> list[str]:
    """Return the labels of the chosen values: names of rows, or the choices' labels."""
    model = Campaign if op in ("in_campaigns", "not_in_campaigns") else spec.model
    if model is not None:
        names = {row.pk: str(row) for row in model.objects.filter(pk__in=value)}
        return [names.get(int(item), f"#{item}") for item in value]
    known = dict(spec.choices())
    return [str(known.get(item, item)) for item in value]


def check_rules(rules: Any) -> None:
    """Raise ValidationError naming every unknown field, unfit operator or bad value, with where."""
    if rules in (None, {}):
        return
    problems: list[str] = []
    count = _check_group(rules, "The rules", 1, problems)
    if count > MAX_CONDITIONS:
        problems.append(f"The rules hold {count} conditions; at most {MAX_CONDITIONS} are allowed.")
    if problems:
        raise ValidationError(problems)


def _check_group(group: Any, where: str, depth: int, problems: list[str]) -> int:
    """Check one group and what it holds; return how many conditions it holds."""
    if not isinstance(group, dict) or set(group) - {"match", "rules"}:
        problems.append(f'{where}: a group is {{"match": "all" or "any", "rules": [...]}}.')
        return 0
    if group.get("match") not in MATCHES:
        problems.append(f'{where}: "match" must be "all" or "any".')
    children = group.get("rules")
    if not isinstance(children, list) or not children:
        problems.append(f"{where}: a group needs at least one condition.")
        return 0
    count = 0
    for number, child in enumerate(children, start=1):
        if isinstance(child, dict) and "rules" in child:
            inner = f"{where}, group {number}" if depth > 1 else f"Group {number}"
            if depth >= MAX_DEPTH:
                problems.append(f"{inner}: groups nest at most {MAX_DEPTH} levels deep.")
                continue
            count += _check_group(child, inner, depth + 1, problems)
        else:
            inner = f"{where}, condition {number}" if depth > 1 else f"Condition {number}"
            problem = condition_problem(child)
            if problem:
                problems.append(f"{inner}: {problem}")
            count += 1
    return count


def condition_problem(condition: Any) -> str | None:
    """Return why a condition cannot be used, or None when it can."""
    if not isinstance(condition, dict) or set(condition) - {"field", "op", "value"}:
        return 'a condition is {"field": …, "op": …, "value": …}.'
    name, op = condition.get("field"), condition.get("op")
    spec = field_of(name) if isinstance(name, str) else None
    if spec is None:
        return f"unknown field {name!r}."
    if op not in KIND_OPS[spec.kind]:
        allowed = ", ".join(KIND_OPS[spec.kind])
        return f"the operator {op!r} does not fit the field {spec.label!r}; use one of: {allowed}."
    return _value_problem(spec, op, condition.get("value"))


def _value_problem(spec: Field, op: str, value: Any) -> str | None:
    """Return why the value does not fit the field and operator, or None."""
    if op in EMPTY_OPS or op in ("ever", "never"):
        return None if value in (None, "", []) else f"{op} takes no value."
    if op in TEXT_OPS:
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            return "give a text of 1 to 200 characters."
        return None
    if op in ("within_days", "not_within_days"):
        if type(value) is not int or not 1 <= value <= MAX_ACTIVE_WITHIN_DAYS:
            return f"give a whole number of days from 1 to {MAX_ACTIVE_WITHIN_DAYS}."
        return None
    if op in ("before", "after"):
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return "give a date as YYYY-MM-DD."
        return None
    if op in CONSENT_OPS:
        return None if value in CONSENT_VALUES else f"give one of: {', '.join(CONSENT_VALUES)}."
    if not isinstance(value, list) or not value:
        return "choose at least one value."
    if op in ("in_campaigns", "not_in_campaigns"):
        return _ids_problem(Campaign, value, "campaign")
    if spec.model is not None:
        return _ids_problem(spec.model, value, spec.model._meta.verbose_name)
    known = {str(code) for code, _label in spec.choices()}
    unknown = [item for item in value if str(item) not in known]
    return f"unknown values: {', '.join(map(str, unknown))}." if unknown else None


def _ids_problem(model: type[Model], value: list, noun: str) -> str | None:
    """Return why the value is not a list of existing ids of the model, or None."""
    try:
        ids = {int(item) for item in value}
    except (TypeError, ValueError):
        return f"give {noun} ids."
    found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = sorted(ids - found)
    return f"no {noun} with id {', '.join(map(str, missing))}." if missing else None


def rules_condition(rules: dict, *, now: datetime | None = None) -> Q:
    """Return the filter on contacts of a checked rule set (an empty rule set matches everyone)."""
    if not rules:
        return Q()
    return _group_condition(rules, now or timezone.now())


def _group_condition(group: dict, now: datetime) -> Q:
    parts = [
        _group_condition(child, now) if "rules" in child else _condition(child, now)
        for child in group["rules"]
    ]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part if group["match"] == "any" else combined & part
    return combined


def _condition(condition: dict, now: datetime) -> Q:
    spec = field_of(condition["field"])
    op, value = condition["op"], condition.get("value")
    builder = {
        "text": _text,
        "choice": _choice,
        "date": _date,
        "tags": _tags,
        "provenance": _provenance,
        "consent": _consent,
        "engagement": _engagement,
    }[spec.kind]
    return builder(spec, op, value, now)


def _empty(path: str, op: str) -> Q:
    empty = Q(**{path: ""}) | Q(**{f"{path}__isnull": True})
    return empty if op == "is_empty" else ~empty


def _text(spec: Field, op: str, value: Any, now: datetime) -> Q:
    if op in EMPTY_OPS:
        return _empty(spec.path, op)
    lookup = {
        "equals": "iexact",
        "not_equals": "iexact",
        "contains": "icontains",
        "not_contains": "icontains",
        "starts_with": "istartswith",
    }[op]
    matched = Q(**{f"{spec.path}__{lookup}": value.strip()})
    return ~matched if op.startswith("not_") else matched


def _choice(spec: Field, op: str, value: Any, now: datetime) -> Q:
    if op in EMPTY_OPS:
        return _empty(spec.path, op)
    matched = Q(**{f"{spec.path}__in": value})
    return ~matched if op == "not_in" else matched


def _date(spec: Field, op: str, value: Any, now: datetime) -> Q:
    if op in EMPTY_OPS:
        empty = Q(**{f"{spec.path}__isnull": True})
        return empty if op == "is_empty" else ~empty
    if op == "within_days":
        return Q(**{f"{spec.path}__gte": now - timedelta(days=value)})
    if op == "not_within_days":
        since = now - timedelta(days=value)
        return Q(**{f"{spec.path}__lt": since}) | Q(**{f"{spec.path}__isnull": True})
    day = _start_of(date.fromisoformat(value))
    if op == "before":
        return Q(**{f"{spec.path}__lt": day})
    return Q(**{f"{spec.path}__gte": day + timedelta(days=1)})


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day))


def _tags(spec: Field, op: str, value: Any, now: datetime) -> Q:
    """Match contacts by the tags, or the static lists, they carry (any, all or none of them)."""
    member = getattr(Contact, spec.path).through.objects.filter(contact_id=OuterRef("pk"))
    column = f"{spec.model._meta.model_name}_id"
    ids = [int(item) for item in value]
    if op == "all_of":
        condition = Q()
        for item in ids:
            condition &= Q(Exists(member.filter(**{column: item})))
        return condition
    matched = Q(Exists(member.filter(**{f"{column}__in": ids})))
    return ~matched if op == "none_of" else matched


def _provenance(spec: Field, op: str, value: Any, now: datetime) -> Q:
    rows = ContactSource.objects.filter(contact_id=OuterRef("pk"), **{f"{spec.path}__in": value})
    matched = Q(Exists(rows))
    return ~matched if op == "none_of" else matched


def _consent(spec: Field, op: str, value: Any, now: datetime) -> Q:
    states = ConsentState.objects.filter(contact_id=OuterRef("pk"), purpose__code=spec.path)
    status = CONSENT_VALUES[value]
    matched = ~Q(Exists(states)) if status is None else Q(Exists(states.filter(status=status)))
    return ~matched if op == "is_not" else matched


def _engagement(spec: Field, op: str, value: Any, now: datetime) -> Q:
    # Only the person's own opens and clicks: a privacy proxy or a mail scanner is no engagement.
    events = MessageEvent.objects.filter(
        message__contact_id=OuterRef("pk"), kind=spec.path
    ).exclude(origin=MessageEvent.Origin.MACHINE)
    if op in ("in_campaigns", "not_in_campaigns"):
        events = events.filter(campaign_id__in=[int(item) for item in value])
    elif op in ("within_days", "not_within_days"):
        events = events.filter(occurred_at__gte=now - timedelta(days=value))
    matched = Q(Exists(events))
    return ~matched if op in ("never", "not_in_campaigns", "not_within_days") else matched
