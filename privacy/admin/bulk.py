"""The contact list's bulk actions: a form for what to do, then the service (privacy/bulk.py).

Each action is offered only to the roles that may run it (`privacy.bulk.may_run`); the service
checks again. Small selections are done before the page answers; larger ones run on the worker
and the page shown is the action's progress, which reloads itself until it is done.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path

from core.admin import show_refusal
from crm.models import BulkAction, Contact, ContactList
from privacy.bulk import OFFLINE_CHANNELS, may_run, start_bulk_action
from privacy.models import ConsentEvent, Purpose

Kind = BulkAction.Kind


class TagsForm(forms.Form):
    tags = forms.CharField(help_text="One or more tags, separated by commas.")

    def params(self) -> dict:
        return {"tags": self.cleaned_data["tags"].split(",")}


class RelationshipForm(forms.Form):
    relationship = forms.ChoiceField(choices=Contact.Relationship.choices)

    def params(self) -> dict:
        return dict(self.cleaned_data)


class ListForm(forms.Form):
    contact_list = forms.ModelChoiceField(queryset=ContactList.objects.all(), label="List")

    def params(self) -> dict:
        return {"list": self.cleaned_data["contact_list"].pk}


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_staff=True, is_active=True)
    )

    def params(self) -> dict:
        return {"owner": self.cleaned_data["owner"].pk}


class OfflineConsentForm(forms.Form):
    purpose = forms.ModelChoiceField(
        queryset=Purpose.objects.filter(is_active=True), to_field_name="code"
    )
    action = forms.ChoiceField(choices=ConsentEvent.Action.choices)
    channel = forms.ChoiceField(
        choices=[(c.value, c.label) for c in OFFLINE_CHANNELS],
    )
    wording = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The exact sentence printed on the form or read on the phone.",
    )
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Once for all: who collected the forms, when, and where they are filed.",
    )

    def params(self) -> dict:
        return {**self.cleaned_data, "purpose": self.cleaned_data["purpose"].code}


class ErasureForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why these people are erased (for example: the client ended the contract and "
        "asked us to delete its list). Kept in the audit trail. This cannot be undone.",
    )

    def params(self) -> dict:
        return dict(self.cleaned_data)


FORMS = {
    Kind.ADD_TAGS: TagsForm,
    Kind.REMOVE_TAGS: TagsForm,
    Kind.SET_RELATIONSHIP: RelationshipForm,
    Kind.SET_OWNER: OwnerForm,
    Kind.ADD_TO_LIST: ListForm,
    Kind.REMOVE_FROM_LIST: ListForm,
    Kind.RECORD_CONSENT: OfflineConsentForm,
    Kind.START_ERASURE: ErasureForm,
}


def _bulk_action(kind: str):
    """Make the admin action that asks for the parameters of `kind` and starts it."""

    def run(model_admin, request, queryset):
        return model_admin.bulk_page(request, queryset, kind)

    run.__name__ = f"bulk_{kind}"
    return admin.action(description=f"{Kind(kind).label} (selected contacts)")(run)


class BulkActionsMixin:
    """Add the bulk actions to the contact list, and their progress page."""

    bulk_actions = tuple(f"bulk_{kind}" for kind in FORMS)
    bulk_add_tags = _bulk_action(Kind.ADD_TAGS)
    bulk_remove_tags = _bulk_action(Kind.REMOVE_TAGS)
    bulk_set_relationship = _bulk_action(Kind.SET_RELATIONSHIP)
    bulk_set_owner = _bulk_action(Kind.SET_OWNER)
    bulk_add_to_list = _bulk_action(Kind.ADD_TO_LIST)
    bulk_remove_from_list = _bulk_action(Kind.REMOVE_FROM_LIST)
    bulk_record_consent = _bulk_action(Kind.RECORD_CONSENT)
    bulk_start_erasure = _bulk_action(Kind.START_ERASURE)

    def get_urls(self):
        view = self.admin_site.admin_view(self.bulk_progress_view)
        return [
            path("bulk/<int:action_id>/", view, name="crm_contact_bulk_progress"),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        for kind in FORMS:
            if not may_run(request.user, kind):
                actions.pop(f"bulk_{kind}", None)
        return actions

    def bulk_page(self, request, queryset, kind: str):
        """Ask what to do; on confirmation, start the action and show the outcome or progress."""
        if not may_run(request.user, kind):
            raise PermissionDenied
        form = FORMS[kind](request.POST if "bulk_confirmed" in request.POST else None)
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        across = request.POST.get("select_across", "0") == "1"
        # The ids ticked, as they were ticked: one gone from the list since is counted as skipped.
        contacts = queryset if across else [int(pk) for pk in selected if pk.isdigit()]
        if form.is_valid():
            try:
                action = start_bulk_action(
                    kind=kind, contacts=contacts, params=form.params(), actor=request.user
                )
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                if action.finished_at is not None:
                    self.message_user(request, outcome(action), messages.SUCCESS)
                    return None
                return redirect("admin:crm_contact_bulk_progress", action.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": Kind(kind).label,
            "form": form,
            "kind": kind,
            "count": queryset.count() if across else len(contacts),
            "selected": selected,
            "select_across": "1" if across else "0",
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/crm/contact/bulk_action.html", context)

    def bulk_progress_view(self, request, action_id):
        """Show how far a bulk action has come, and what was skipped and why."""
        action = get_object_or_404(BulkAction, pk=action_id)
        if action.created_by_id != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.get_kind_display()}: {action.done} of {action.total}",
            "action": action,
            "outcome": outcome(action),
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/crm/contact/bulk_progress.html", context)


def outcome(action: BulkAction) -> str:
    """Say what a bulk action did: how many acted on, how many skipped and why."""
    text = f"{action.get_kind_display()}: done for {action.acted} of {action.total} contacts."
    if action.skipped:
        reasons = "; ".join(f"{count} {why}" for why, count in sorted(action.skipped.items()))
        text += f" Skipped {sum(action.skipped.values())}: {reasons}."
    return text
