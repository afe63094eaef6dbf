"""The merge screen: two records side by side, staff pick each field, the merge service does it.

A mixin of the contact admin (`admin:crm_contact_merge`), and the "Merge two contacts" action of
the contact list, which opens the same screen for the two selected.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse

from core.admin import form_page
from crm.models import Contact
from privacy.merging import MERGEABLE_FIELDS, merge_contacts, merge_refusals

MERGE_PERMISSION = "crm.merge_contacts"


class MergeForm(forms.Form):
    """One choice per field between the two records, and the officer's decision when needed."""

    officer_decision = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only for a restricted record or one under a legal hold: why an officer "
        "decided they may be merged. Kept in the audit trail.",
    )

    def __init__(self, *args, keep: Contact, duplicate: Contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for name in MERGEABLE_FIELDS:
            field = Contact._meta.get_field(name)
            mine, theirs = _shown(keep, name), _shown(duplicate, name)
            self.fields[f"pick_{name}"] = forms.ChoiceField(
                label=str(field.verbose_name).capitalize(),
                choices=[("keep", mine or "(empty)"), ("duplicate", theirs or "(empty)")],
                widget=forms.RadioSelect,
                initial="duplicate" if theirs and not mine else "keep",
            )
            self.rows.append((self[f"pick_{name}"], mine, theirs))

    def taken(self) -> list[str]:
        """Return the fields whose value comes from the duplicate."""
        return [n for n in MERGEABLE_FIELDS if self.cleaned_data[f"pick_{n}"] == "duplicate"]


def _shown(contact: Contact, name: str) -> str:
    """Return the field's value as staff read it."""
    field = Contact._meta.get_field(name)
    if field.choices:
        return str(getattr(contact, f"get_{name}_display")() if getattr(contact, name) else "")
    value = getattr(contact, name)
    return "" if value in (None, "") else str(value)


class MergeAdminMixin:
    """Add the merge screen and the list action that opens it."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.merge_view)
        return [
            path("<int:keep_id>/merge/<int:duplicate_id>/", view, name="crm_contact_merge"),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(MERGE_PERMISSION):
            actions.pop("merge_two", None)
        return actions

    @admin.action(description="Merge the two selected contacts")
    def merge_two(self, request, queryset):
        """Open the merge screen for exactly two selected contacts, the older one kept."""
        ids = sorted(queryset.values_list("pk", flat=True)[:3])
        if len(ids) != 2:
            self.message_user(request, "Select exactly two contacts to merge.", messages.ERROR)
            return None
        return redirect("admin:crm_contact_merge", ids[0], ids[1])

    def merge_view(self, request, keep_id, duplicate_id):
        """Show both records side by side; on submit, merge the second into the first."""
        if not request.user.has_perm(MERGE_PERMISSION):
            raise PermissionDenied
        keep = Contact.objects.filter(pk=keep_id).first()
        duplicate = Contact.objects.filter(pk=duplicate_id).first()
        if keep is None or duplicate is None:
            self.message_user(request, "One of the two contacts no longer exists.", messages.ERROR)
            return redirect("admin:crm_contact_changelist")
        form = MergeForm(request.POST or None, keep=keep, duplicate=duplicate)

        def merge(data: dict) -> str:
            result = merge_contacts(
                keep=keep,
                duplicate=duplicate,
                take=form.taken(),
                actor=request.user,
                channel="admin",
                officer_decision=data["officer_decision"],
            )
            moved = sum(result.moved.values())
            return f"Contact #{result.merged_id} was merged into this record ({moved} rows moved)."

        return form_page(
            self,
            request,
            form=form,
            template="admin/crm/contact/merge.html",
            title=f"Merge contact #{duplicate.pk} into #{keep.pk}",
            on_valid=merge,
            then=reverse("admin:crm_contact_change", args=[keep.pk]),
            keep=keep,
            duplicate=duplicate,
            refusals=merge_refusals(
                keep=keep, duplicate=duplicate, actor=request.user, officer_decision="-"
            ),
            needs_officer=bool(merge_refusals(keep=keep, duplicate=duplicate, actor=None)),
            swap=reverse("admin:crm_contact_merge", args=[duplicate.pk, keep.pk]),
        )
