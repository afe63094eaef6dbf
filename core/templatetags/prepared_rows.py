"""`{% prepared_result_list cl %}`: Django's result table, its rows from `core.admin_rows`."""

from django.contrib.admin.templatetags.admin_list import (
    result_headers,
    result_hidden_fields,
    result_list,
)
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList
from django.template import Library

from core.admin_rows import prepared_results

register = Library()


def prepared_result_list(cl: ChangeList) -> dict:
    """Return the context of Django's result table, with the rows prepared once per column."""
    rows = prepared_results(cl)
    if rows is None:
        return result_list(cl)
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows,
    }


@register.tag(name="prepared_result_list")
def prepared_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=prepared_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
