"""The personal-data registry: every model that holds personal data, and what happens to it.

GDPR art. 5(1)(c, e), 15, 17, 20 and 30 all need the same knowledge: which rows belong to a person,
which fields are personal, how they are exported, and whether erasure deletes them, anonymises them
or keeps them under a legal obligation. It is declared here once per model, from each app's
`personal_data.py`, and exports, erasure, retention and the record of processing read it; no other
code lists personal models by hand. A model that looks personal (a relation to `Contact`, or a field
named like an e-mail, phone, name, address, IP or birth date) must be declared or exempted with a
reason: `undeclared_models()` lists the ones that are not, and a test fails on any.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils.module_loading import autodiscover_modules

# Field names that hold personal data wherever they appear.
PERSONAL_FIELD_NAME = re.compile(
    r"(^|_)(e_?mail|email_address|phone|mobile|first_name|last_name|full_name|surname|"
    r"address|street|postcode|postal_code|ip|ip_address|birth_date|birthday|date_of_birth)($|_)"
)
PERSONAL_FIELD_TYPES = (models.EmailField, models.GenericIPAddressField)


def _forget_files(queryset: QuerySet, names: Iterable[str]) -> None:
    """Delete the stored files of the rows' file fields once the transaction commits."""
    file_fields = [
        f
        for f in queryset.model._meta.concrete_fields
        if isinstance(f, models.FileField) and (not names or f.name in names)
    ]
    for file_field in file_fields:
        stored = [n for n in queryset.values_list(file_field.name, flat=True) if n]
        storage = file_field.storage
        transaction.on_commit(lambda s=storage, files=stored: [s.delete(n) for n in files])


def _unlink_many_to_many(queryset: QuerySet) -> None:
    """Remove the rows' plain many-to-many links (a contact's tags), as Django's delete would."""
    opts = queryset.model._meta
    selected = queryset.order_by().values("pk")
    for m2m in opts.many_to_many:
        through = m2m.remote_field.through
        if through._meta.auto_created:
            through._base_manager.filter(**{f"{m2m.m2m_field_name()}__in": selected}).delete()
    for relation in opts.related_objects:
        if relation.many_to_many and relation.through._meta.auto_created:
            column = relation.field.m2m_reverse_field_name()
            relation.through._base_manager.filter(**{f"{column}__in": selected}).delete()


def _delete_rows(queryset: QuerySet) -> int:
    """Delete the queryset's rows in one DELETE statement, without Django's cascade collector.

    Django's own raw delete (what its collector runs for a fast delete): rows selected on their
    own table alone become `DELETE … WHERE <their condition>`, which PostgreSQL answers from the
    index; only rows found across a relation go through `pk IN (SELECT …)`, which it may answer
    by reading the whole table.
    """
    # None: a condition Django knows selects nothing (an empty IN), so nothing was deleted.
    return queryset.order_by()._raw_delete(queryset.db) or 0


@dataclass(frozen=True)
class Delete:
    """Erasure deletes the rows, and the files they point to."""

    def apply(self, queryset: QuerySet) -> int:
        """Delete the rows in one statement; return how many went.

        No cascade and no rows loaded into memory: every dependent model holding personal data has
        its own declaration and is applied first, and a dependent that was missed makes the
        foreign-key check, or the trigger standing in for it (core/orphans.py), fail the whole
        transaction instead of leaving orphans.
        """
        _forget_files(queryset, ())
        _unlink_many_to_many(queryset)
        return _delete_rows(queryset)


@dataclass(frozen=True)
class Anonymise:
    """Erasure blanks the named fields and keeps the row (for counts that must stay true)."""

    fields: tuple[str, ...]

    def apply(self, queryset: QuerySet) -> int:
        """Blank the fields (NULL where allowed, else empty); return how many rows changed."""
        _forget_files(queryset, self.fields)
        opts = queryset.model._meta
        blanks = {name: None if opts.get_field(name).null else "" for name in self.fields}
        return queryset.update(**blanks)


@dataclass(frozen=True)
class Retain:
    """Erasure keeps the rows on a legal ground, until the date in `until_field` if there is one."""

    ground: str
    until_field: str | None = None

    def apply(self, queryset: QuerySet) -> int:
        """Keep the rows: a later retention rule removes them when the hold ends."""
        return 0


ErasureAction = Delete | Anonymise | Retain


@dataclass(frozen=True)
class Declaration:
    """How one model holds personal data: whose it is, which fields, what erasure does."""

    model: type[models.Model]
    category: str
    description: str
    fields: tuple[str, ...]
    erasure: ErasureAction
    subject: str | None = None
    email_field: str | None = None
    rows: Callable[[Iterable[int]], QuerySet] | None = None
    export_fields: tuple[str, ...] = ()
    on_hold: Anonymise | None = None
    # The date or time that places a row on the person's timeline (crm.timeline): "" takes the
    # first date among the export fields; None keeps the model off the timeline.
    timeline_field: str | None = ""
    # The columns that can hold the person's e-mail address or phone number, which the erasure's
    # leftover scan compares; None: every declared text field. Names, job titles and countries
    # cannot hold either, and scanning them cost a read of the whole table.
    identifier_fields: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """Return the model's `app_label.model_name`."""
        return self.model._meta.label_lower

    def rows_for(self, *, contact_ids: Iterable[int], emails: Iterable[str] = ()) -> QuerySet:
        """Return this model's rows that belong to the given contacts or e-mail addresses."""
        contact_ids = list(contact_ids)
        manager = self.model._base_manager
        if self.rows is not None:
            return self.rows(contact_ids)
        if self.subject is not None:
            lookup = f"{self.subject}__any_of" if self.subject else "pk__any_of"
            return manager.filter(**{lookup: contact_ids})
        return manager.filter(**{f"{self.email_field}__any_of": list(emails)})


@dataclass
class Registry:
    """The declarations and exemptions of every installed model."""

    declarations: dict[type[models.Model], Declaration] = field(default_factory=dict)
    exemptions: dict[type[models.Model], str] = field(default_factory=dict)

    def declare(
        self,
        model: type[models.Model],
        *,
        category: str,
        description: str,
        fields: Iterable[str],
        erasure: ErasureAction,
        subject: str | None = None,
        email_field: str | None = None,
        rows: Callable[[Iterable[int]], QuerySet] | None = None,
        export_fields: Iterable[str] = (),
        on_hold: Anonymise | None = None,
        timeline_field: str | None = "",
        identifier_fields: Iterable[str] | None = None,
    ) -> Declaration:
        """Declare that `model` holds personal data, and how it links to a person.

        `on_hold` is what erasure does instead when rows under a legal hold still point here;
        `timeline_field` is the date that places a row on the person's timeline ("": the first
        date among the export fields; None: not on the timeline); `identifier_fields` are the
        declared fields that can hold an e-mail address or phone number (None: every text field).
        """
        if sum(x is not None for x in (subject, email_field, rows)) != 1:
            raise ValueError(f"{model._meta.label}: give one of subject, email_field, rows.")
        known = {f.name for f in model._meta.get_fields()}
        unknown = {*fields, *export_fields} - known
        for action in (erasure, on_hold):
            if isinstance(action, Anonymise):
                unknown |= set(action.fields) - known
        if isinstance(erasure, Retain) and erasure.until_field:
            unknown |= {erasure.until_field} - known
        if timeline_field:
            unknown |= {timeline_field} - known
        if identifier_fields is not None:
            identifier_fields = tuple(identifier_fields)
            unknown |= set(identifier_fields) - set(fields)
        if unknown:
            raise ValueError(f"{model._meta.label}: unknown fields {sorted(unknown)}.")
        if model in self.declarations or model in self.exemptions:
            raise ValueError(f"{model._meta.label} is already in the registry.")
        declaration = Declaration(
            model=model,
            category=category,
            description=description,
            fields=tuple(fields),
            erasure=erasure,
            subject=subject,
            email_field=email_field,
            rows=rows,
            export_fields=tuple(export_fields),
            on_hold=on_hold,
            timeline_field=timeline_field,
            identifier_fields=identifier_fields,
        )
        self.declarations[model] = declaration
        return declaration

    def exempt(self, model: type[models.Model], *, reason: str) -> None:
        """Record that `model` holds no personal data of data subjects, and why."""
        if not reason.strip():
            raise ValueError(f"{model._meta.label}: an exemption needs a reason.")
        if model in self.declarations or model in self.exemptions:
            raise ValueError(f"{model._meta.label} is already in the registry.")
        self.exemptions[model] = reason

    def __iter__(self):
        return iter(self.declarations.values())

    def get(self, model: type[models.Model]) -> Declaration | None:
        """Return the model's declaration, or None."""
        return self.declarations.get(model)

    def undeclared_models(
        self, models_to_check: Iterable[type[models.Model]] | None = None
    ) -> dict[str, list[str]]:
        """Map each personal-looking model neither declared nor exempt to why it looks so."""
        found = {}
        for model in models_to_check if models_to_check is not None else apps.get_models():
            if model in self.declarations or model in self.exemptions:
                continue
            reasons = personal_signals(model)
            if reasons:
                found[model._meta.label] = reasons
        return found


def personal_signals(model: type[models.Model]) -> list[str]:
    """List what makes a model look personal: a relation to Contact or a personal-looking field."""
    contact = apps.get_model("crm", "Contact")
    reasons = []
    for f in model._meta.get_fields():
        if f.auto_created and not f.concrete:
            continue
        if f.is_relation and f.related_model is contact:
            reasons.append(f"{f.name}: relation to Contact")
        elif isinstance(f, PERSONAL_FIELD_TYPES) or PERSONAL_FIELD_NAME.search(f.name):
            reasons.append(f"{f.name}: looks personal")
    return reasons


registry = Registry()


def autodiscover() -> None:
    """Import every installed app's `personal_data` module, which declares its models."""
    autodiscover_modules("personal_data")
