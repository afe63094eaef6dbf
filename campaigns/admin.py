"""Staff screens for segments, campaigns and their messages; every rule lives in the modules called.

A segment's form shows a live count and, for staff who may see contacts, its first rows: a static
script (no inline script, for a strict content security policy) asks the staff-only count endpoint
whenever the criteria change. Another builds the rules' groups and conditions from the fields
endpoint and writes them as JSON into the form's rules field. A campaign is
edited while it is a draft, with its versions in other languages (`campaigns.content_admin`, with
the e-mail templates); it is previewed for a contact and a language; its audience page shows the
exclusions for each reason and starts, schedules or cancels it. Messages are records: read only,
listed without addresses or tokens.
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django_countries import countries

from campaigns import visit_admin  # noqa: F401 -- registers the contact page's web visits
from campaigns.audience import audience_breakdown
from campaigns.content_admin import TEMPLATE_HELP, ContentForm, PreviewForm, VersionInline
from campaigns.models import Campaign, Message, Segment
from campaigns.segment_rules import (
    MAX_DEPTH,
    OP_WORDS,
    catalogue,
    check_rules,
    describe_rules,
)
from campaigns.segments import SegmentCriteria, count_matching, preview_contacts
from campaigns.sending import ab_test, mail, starting, states
from campaigns.sending.progress import sending_progress
from core.admin import ReadOnlyAdmin, form_page
from core.counting import distinct_values
from crm.contacts import record_contact_view
from crm.models import Company, Contact, Source, Tag

CRITERIA_FIELDS = (
    "companies",
    "industries",
    "countries",
    "relationships",
    "sources",
    "tags",
    "active_within_days",
    "rules",
)
PREVIEW_ROWS = 10


def _industry_choices() -> list[tuple[str, str]]:
    return [(value, value) for value in distinct_values(Company, "industry")]


class SegmentForm(forms.ModelForm):
    """The criteria of a segment, with choices instead of raw lists."""

    industries = forms.MultipleChoiceField(choices=_industry_choices, required=False)
    countries = forms.MultipleChoiceField(choices=list(countries), required=False)
    relationships = forms.MultipleChoiceField(choices=Contact.Relationship.choices, required=False)
    sources = forms.ModelMultipleChoiceField(queryset=Source.objects.all(), required=False)
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False)
    rules = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "segment-rules-json"}),
        help_text="Groups of conditions joined by AND (all) or OR (any), built above; "
        "they must hold together with the criteria.",
    )

    class Meta:
        model = Segment
        fields = ("name", "description", *CRITERIA_FIELDS)

    def clean_rules(self):
        rules = self.cleaned_data.get("rules") or {}
        check_rules(rules)
        return rules


def criteria_from_form(form: forms.Form) -> SegmentCriteria:
    """Return the criteria of a validated segment form."""
    data = form.cleaned_data
    return SegmentCriteria(
        company_ids=tuple(company.pk for company in data.get("companies") or ()),
        industries=tuple(data.get("industries") or ()),
        countries=tuple(data.get("countries") or ()),
        relationships=tuple(data.get("relationships") or ()),
        source_ids=tuple(source.pk for source in data.get("sources") or ()),
        tag_ids=tuple(tag.pk for tag in data.get("tags") or ()),
        active_within_days=data.get("active_within_days"),
        rules=data.get("rules") or {},
    )


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ("name", "description", "rules_in_words", "updated_at")
    search_fields = ("name",)
    autocomplete_fields = ("companies",)
    change_form_template = "admin/campaigns/segment/change_form.html"

    class Media:
        js = ("campaigns/segment_rules.js", "campaigns/segment_count.js")
        css = {"all": ("campaigns/editing.css",)}

    @admin.display(description="rules")
    def rules_in_words(self, segment: Segment) -> str:
        return describe_rules(segment.rules) or "—"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        count = self.admin_site.admin_view(self.count_view)
        fields = self.admin_site.admin_view(self.fields_view)
        return [
            path("count/", count, name="campaigns_segment_count"),
            path("fields/", fields, name="campaigns_segment_fields"),
            *super().get_urls(),
        ]

    def fields_view(self, request):
        """Answer the fields, operators and choices the rule builder offers (to staff who view)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse({"fields": catalogue(), "op_labels": OP_WORDS, "max_depth": MAX_DEPTH})

    def count_view(self, request):
        """Answer the live count of the criteria in the query string (staff with view rights)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SegmentForm(request.GET)
        form.is_valid()
        errors = {name: form.errors[name] for name in CRITERIA_FIELDS if name in form.errors}
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        criteria = criteria_from_form(form)
        result = count_matching(criteria)
        text = f"{result.value:,} contacts" if result.exact else f"about {result.value:,} contacts"
        answer = {"count": result.value, "exact": result.exact, "text": text}
        if request.user.has_perm("crm.view_contact"):
            answer["preview"] = [
                {**row, "url": reverse("admin:crm_contact_change", args=[row["id"]])}
                for row in preview_contacts(criteria, rows=PREVIEW_ROWS)
            ]
        return JsonResponse(answer)


class CampaignForm(ContentForm):
    """A campaign's fields; its subject and bodies are the default language's version."""

    class Meta:
        model = Campaign
        fields = (
            "name",
            "client",
            "from_email",
            "purpose",
            "segment",
            "language",
            "layout",
            "subject",
            "subject_b",
            "ab_share",
            "ab_wait_hours",
            "ab_metric",
            "html_body",
            "text_body",
        )
        help_texts = {
            "html_body": TEMPLATE_HELP,
            "text_body": "The same variables as the HTML body; always sent alongside it.",
        }


class ScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label="Start at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the server's time zone.",
    )


class TestSendForm(forms.Form):
    to = forms.EmailField(label="Send to", help_text="The address of a staff account.")
    language = forms.ChoiceField(
        choices=settings.LANGUAGES, help_text="The version to send; the default when it has none."
    )


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "status", "client", "purpose", "segment", "scheduled_at", "started_at")
    list_filter = ("status", "purpose", "client")
    list_select_related = ("client", "purpose", "segment")
    search_fields = ("name",)
    autocomplete_fields = ("segment",)
    readonly_fields = ("status", "scheduled_at", "started_at", "finished_at")
    change_form_template = "admin/campaigns/campaign/change_form.html"
    inlines = (VersionInline,)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Campaign.Status.DRAFT:
            # Only a draft is edited: what was scheduled or sent stays what it was.
            return (*CampaignForm.Meta.fields, *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # A campaign that went out stays: its messages and events are the record of what was sent.
        if obj is not None and obj.status in (Campaign.Status.SENDING, Campaign.Status.SENT):
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        audience = self.admin_site.admin_view(self.audience_view)
        test_send = self.admin_site.admin_view(self.test_send_view)
        preview = self.admin_site.admin_view(self.preview_view)
        preview_body = self.admin_site.admin_view(self.preview_body_view)
        return [
            path("<int:campaign_id>/audience/", audience, name="campaigns_campaign_audience"),
            path("<int:campaign_id>/test-send/", test_send, name="campaigns_campaign_test_send"),
            path("<int:campaign_id>/preview/", preview, name="campaigns_campaign_preview"),
            path(
                "<int:campaign_id>/preview/body/",
                preview_body,
                name="campaigns_campaign_preview_body",
            ),
            *super().get_urls(),
        ]

    def _campaign(self, request, campaign_id: int, *, change: bool) -> Campaign:
        campaign = self.get_object(request, str(campaign_id))
        allowed = (self.has_change_permission if change else self.has_view_permission)(
            request, campaign
        )
        if campaign is None or not allowed:
            raise PermissionDenied
        return campaign

    def audience_view(self, request, campaign_id: int):
        """Show who the campaign reaches and who is excluded why; send, schedule or cancel it."""
        campaign = self._campaign(request, campaign_id, change=request.method == "POST")
        schedule_form = ScheduleForm(request.POST if "schedule" in request.POST else None)
        if request.method == "POST":
            try:
                done = self._act(request, campaign, schedule_form)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), level="error")
            else:
                if done:
                    self.message_user(request, done)
                    return redirect("admin:campaigns_campaign_change", campaign.pk)
        status = campaign.status
        context = {
            **self.admin_site.each_context(request),
            "title": f"Audience of {campaign}",
            "campaign": campaign,
            "breakdown": audience_breakdown(campaign) if status in _PLANNED else None,
            "messages_by_status": _messages_by_status(campaign),
            "segment_rules": describe_rules(campaign.segment.rules),
            "ab_results": ab_test.results(campaign)
            if campaign.subject_b and status not in _PLANNED
            else None,
            "progress": sending_progress(campaign),
            "schedule_form": schedule_form,
            "can_change": self.has_change_permission(request, campaign),
            "can_send": Campaign.Status.SENDING in states.LEGAL_TRANSITIONS[status],
            "can_schedule": status == Campaign.Status.DRAFT,
            "can_unschedule": status == Campaign.Status.SCHEDULED,
            "can_cancel": Campaign.Status.CANCELLED in states.LEGAL_TRANSITIONS[status],
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/campaigns/campaign/audience.html", context)

    def _act(self, request, campaign: Campaign, schedule_form: ScheduleForm) -> str | None:
        """Run the button pressed; return the message to show, or None to show the page again."""
        if "send" in request.POST:
            starting.request_start(campaign=campaign, actor=request.user)
            return (
                "Sending is starting: the messages are being created by a sending worker. "
                "Open Audience and sending again to follow it."
            )
        if "schedule" in request.POST:
            if not schedule_form.is_valid():
                return None
            at = schedule_form.cleaned_data["scheduled_at"]
            states.schedule_campaign(campaign=campaign, at=at, actor=request.user)
            return f"Scheduled for {timezone.localtime(at):%Y-%m-%d %H:%M}."
        if "unschedule" in request.POST:
            states.unschedule_campaign(campaign=campaign, actor=request.user)
            return "Back to draft: it will not start until sent or scheduled again."
        if "cancel" in request.POST:
            states.cancel_campaign(campaign=campaign, actor=request.user)
            return "Cancelled: no further messages will be sent."
        return None

    def test_send_view(self, request, campaign_id: int):
        """Send the campaign to a staff address, as a test."""
        campaign = self._campaign(request, campaign_id, change=True)

        def send(data: dict) -> str:
            mail.send_test(
                campaign=campaign, to=data["to"], actor=request.user, language=data["language"]
            )
            return f"Test sent to {data['to']}."

        initial = {"to": request.user.email, "language": campaign.language}
        return form_page(
            self,
            request,
            form=TestSendForm(request.POST or None, initial=initial),
            template="admin/campaigns/campaign/test_send.html",
            title=f"Test send of {campaign}",
            on_valid=send,
            then=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
            campaign=campaign,
        )

    def preview_view(self, request, campaign_id: int):
        """Show the campaign as a chosen contact, or a made-up reader, gets it in a language."""
        campaign = self._campaign(request, campaign_id, change=False)
        form = PreviewForm(request.GET or {"language": campaign.language})
        rendered = body_url = None
        if form.is_valid():
            rendered, body_url = self._preview(request, campaign, form.cleaned_data)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview of {campaign}",
            "campaign": campaign,
            "form": form,
            "rendered": rendered,
            "body_url": body_url,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/campaigns/campaign/preview.html", context)

    def _preview(self, request, campaign: Campaign, data: dict):
        contact = data["email"]
        if contact is not None:
            if not request.user.has_perm("crm.view_contact"):
                raise PermissionDenied
            record_contact_view(contact=contact, actor=request.user, channel="admin")
        rendered = mail.preview(campaign=campaign, language=data["language"], contact=contact)
        query = {"language": data["language"]}
        if contact is not None:
            query["contact"] = contact.pk
        body_url = reverse("admin:campaigns_campaign_preview_body", args=[campaign.pk])
        return rendered, f"{body_url}?{urlencode(query)}"

    @method_decorator(xframe_options_sameorigin)
    def preview_body_view(self, request, campaign_id: int):
        """Answer the previewed HTML alone, for the preview page's sandboxed frame."""
        campaign = self._campaign(request, campaign_id, change=False)
        language = request.GET.get("language", campaign.language)
        if language not in dict(settings.LANGUAGES):
            raise Http404
        contact = None
        if request.GET.get("contact"):
            if not request.user.has_perm("crm.view_contact"):
                raise PermissionDenied
            contact = get_object_or_404(
                Contact.objects.select_related("company"), pk=request.GET["contact"]
            )
        rendered = mail.preview(campaign=campaign, language=language, contact=contact)
        response = HttpResponse(rendered.html)
        # The e-mail's own inline styles and images, nothing that runs; framed only by us.
        response["Content-Security-Policy"] = PREVIEW_POLICY
        return response


PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'"
)
_PLANNED = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


def _messages_by_status(campaign: Campaign) -> list[tuple[str, int]]:
    """Return (status label, count) of the campaign's messages, for the audience page."""
    rows = Message.objects.filter(campaign=campaign).order_by().values("status")
    counts = {row["status"]: row["n"] for row in rows.annotate(n=Count("pk"))}
    return [(label, counts.get(value, 0)) for value, label in Message.Status.choices]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """The record of each message: status and timing; no address, no token."""

    list_display = ("pk", "campaign", "contact_id", "status", "attempts", "sent_at", "error")
    list_filter = ("status", "campaign")
    list_select_related = ("campaign",)
    search_fields = ("=contact__id",)
    fields = ("campaign", "contact", "status", "attempts", "claimed_at", "sent_at", "error")
    readonly_fields = fields
    show_full_result_count = False
