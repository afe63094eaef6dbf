"""The admin change list's rows, rendered by column renderers prepared once per page.

Django renders each cell of a change list through `items_for_result`: `lookup_field` finds the
column again, the admin's empty-value text is translated again, a field's choices are rebuilt, and
every row's link is reversed and its preserved filters parsed again. That per-cell work was most
of a long list's rendering. Here each column is worked out once per page (what its value is, how
it is shown, its classes, whether it links) and each row only reads its values: the HTML is the
one Django writes. A list this module does not know how to render the same way (editable cells,
a popup, a `to_field`, a key that is not an integer, a column that is a property or a lookup
across relations) keeps Django's own rendering.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib.admin.templatetags.admin_list import ResultList, _coerce_field_name
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

Cell = Callable[[models.Model], SafeString]
# Stands for the row's key in the change link worked out once; underscores survive reverse().
KEY_MARK = "__row_key__"


def prepared_results(cl: ChangeList) -> list[ResultList] | None:
    """Return the page's rows as Django's change list renders them, or None if it must."""
    if cl.formset is not None or cl.is_popup or cl.to_field:
        return None
    if not isinstance(cl.lookup_opts.pk, models.IntegerField):
        return None
    link = _row_link(cl)
    cells: list[Cell] = []
    first = True
    for index, name in enumerate(cl.list_display):
        links = _links(cl, name, first=first)
        cell = _column(cl, index, name, links=links, link=link, first=first)
        if cell is None:
            return None
        cells.append(cell)
        first = first and not links
    return [ResultList(None, [cell(result) for cell in cells]) for result in cl.result_list]


def _links(cl: ChangeList, name: Any, *, first: bool) -> bool:
    """Say whether the column links to the row's page, as Django's change list decides it."""
    if cl.list_display_links is None:
        return False
    if first and not cl.list_display_links:
        return True
    return name in cl.list_display_links


def _row_link(cl: ChangeList) -> Callable[[models.Model], str] | None:
    """Return a function giving a row's change link with the list's filters, or None if none."""
    info = (cl.opts.app_label, cl.opts.model_name)
    try:
        url = reverse(
            "admin:%s_%s_change" % info,  # noqa: UP031 -- Django's own spelling of the name
            args=(KEY_MARK,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return None
    url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
    head, _, tail = url.rpartition(KEY_MARK)
    attname = cl.pk_attname
    return lambda result: f"{head}{getattr(result, attname)}{tail}"


def _column(
    cl: ChangeList,
    index: int,
    name: Any,
    *,
    links: bool,
    link: Callable[[models.Model], str] | None,
    first: bool,
) -> Cell | None:
    """Return the renderer of one column's cells, or None for a kind of column not known here.

    `links` says the column leads to the row's page; `link` gives that page's address, or is
    None when the admin has no such page (the cell then shows its text alone, as Django does).
    """
    read = _reader(cl, name)
    if read is None:
        return None
    field, attr, value_of = read
    admin_empty = cl.model_admin.get_empty_value_display()
    empty = getattr(attr, "empty_value_display", admin_empty)
    # A row whose related object is gone shows the admin's empty text with the column's class.
    plain = [f"field-{_coerce_field_name(name, index)}"]
    classes = list(plain)
    if field is None or field.auto_created:
        if name == "action_checkbox":
            classes = ["action-checkbox"]
        boolean = getattr(attr, "boolean", False)

        def show(value: Any) -> tuple[Any, bool]:
            shown = display_for_value(value, empty, boolean)
            return shown, isinstance(value, datetime.date | datetime.time)

    else:
        show = _field_display(field, empty, avoid_link=links)
        if isinstance(field, models.DateField | models.TimeField | models.ForeignKey):
            classes.append("nowrap")
    tag = "th" if links and first else "td"
    anchor = link if links else None

    def cell(result: models.Model) -> SafeString:
        try:
            value = value_of(result)
        except ObjectDoesNotExist:
            shown, names = admin_empty, plain
        else:
            if isinstance(value, str) and value.strip() == "":
                value = ""
            shown, nowrap = show(value)
            names = [*classes, "nowrap"] if nowrap else classes
        text = conditional_escape(shown)
        if anchor is not None:
            text = f'<a href="{conditional_escape(anchor(result))}">{text}</a>'
        # Every piece is escaped above, as format_html escapes them in Django's rendering.
        return mark_safe(f'<{tag} class="{" ".join(names)}">{text}</{tag}>')  # noqa: S308

    return cell


def _reader(
    cl: ChangeList, name: Any
) -> tuple[models.Field | None, Any, Callable[[models.Model], Any]] | None:
    """Return what `lookup_field` finds for the column: its field, attribute and value getter."""
    model_admin = cl.model_admin
    try:
        field = _get_non_gfk_field(cl.lookup_opts, name)
    except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
        pass
    else:
        attname = field.name
        return field, None, lambda result: getattr(result, attname)
    if callable(name):
        return None, name, name
    if hasattr(model_admin, name) and name != "__str__":
        method = getattr(model_admin, name)
        return None, method, method
    method = getattr(cl.model, name, None)
    if isinstance(method, Callable) and not isinstance(method, property | type):
        # A method of the model, called on each row as `lookup_field` calls it.
        return None, method, lambda result: getattr(result, name)()
    return None


def _field_display(
    field: models.Field, empty: str, *, avoid_link: bool
) -> Callable[[Any], tuple[Any, bool]]:
    """Return how a model field's value is shown, with its choices read once for the page."""
    if isinstance(field.remote_field, models.ManyToOneRel):
        return lambda value: (empty if value is None else value, False)
    if getattr(field, "flatchoices", None):
        choices = dict(field.flatchoices)

        def choice(value: Any) -> tuple[Any, bool]:
            try:
                return choices.get(value, empty), False
            except TypeError:
                return display_for_field(value, field, empty, avoid_link=avoid_link), False

        return choice
    return lambda value: (display_for_field(value, field, empty, avoid_link=avoid_link), False)
