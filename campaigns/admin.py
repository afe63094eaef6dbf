"""Staff screens for segments, campaigns and their messages; every rule lives in the modules called.

A segment's form shows a live count: a static script (no inline script, for a strict content
security policy) asks the staff-only count endpoint whenever the criteria change. A campaign is
edited while it is a draft; its audience page shows the exclusions for each reason and starts,
schedules or cancels it. Messages are records: read only, listed without addresses or tokens.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django_countries import countries

from campaigns.audience import audience_breakdown
from campaigns.models import Campaign, Message, Segment
from campaigns.segments import SegmentCriteria, count_matching
from campaigns.sending import mail, starting, states
from campaigns.sending.progress import sending_progress
from core.admin import ReadOnlyAdmin, form_page
from core.counting import distinct_values
from crm.models import Company, Contact, Source, Tag

CRITERIA_FIELDS = (
    "companies",
    "industries",
    "countries",
    "relationships",
    "sources",
    "tags",
    "active_within_days",
)


def _industry_choices() -> list[tuple[str, str]]:
    return [(value, value) for value in distinct_values(Company, "industry")]


class SegmentForm(forms.ModelForm):
    """The criteria of a segment, with choices instead of raw lists."""

    industries = forms.MultipleChoiceField(choices=_industry_choices, required=False)
    countries = forms.MultipleChoiceField(choices=list(countries), required=False)
    relationships = forms.MultipleChoiceField(choices=Contact.Relationship.choices, required=False)
    sources = forms.ModelMultipleChoiceField(queryset=Source.objects.all(), required=False)
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False)

    class Meta:
        model = Segment
        fields = ("name", "description", *CRITERIA_FIELDS)


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
    )


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ("name", "description", "updated_at")
    search_fields = ("name",)
    autocomplete_fields = ("companies",)
    change_form_template = "admin/campaigns/segment/change_form.html"

    class Media:
        js = ("campaigns/segment_count.js",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        count = self.admin_site.admin_view(self.count_view)
        return [path("count/", count, name="campaigns_segment_count"), *super().get_urls()]

    def count_view(self, request):
        """Answer the live count of the criteria in the query string (staff with view rights)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SegmentForm(request.GET)
        form.is_valid()
        errors = {name: form.errors[name] for name in CRITERIA_FIELDS if name in form.errors}
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        result = count_matching(criteria_from_form(form))
        text = f"{result.value:,} contacts" if result.exact else f"about {result.value:,} contacts"
        return JsonResponse({"count": result.value, "exact": result.exact, "text": text})


class CampaignForm(forms.ModelForm):
    """A campaign's fields; the subject and bodies are checked against the template language."""

    class Meta:
        model = Campaign
        fields = (
            "name",
            "client",
            "from_email",
            "purpose",
            "segment",
            "subject",
            "html_body",
            "text_body",
        )
        help_texts = {
            "html_body": 'Use {{ first_name }} (or {{ first_name|default:"there" }}), '
            "{{ preferences_url }} and {{ unsubscribe_url }}; nothing else. Links are tracked "
            "and an open pixel is added, except for people who turned tracking off.",
            "text_body": "The same variables as the HTML body; always sent alongside it.",
        }

    def clean(self):
        data = super().clean()
        try:
            states.check_campaign_content(
                subject=data.get("subject", ""),
                html_body=data.get("html_body", ""),
                text_body=data.get("text_body", ""),
            )
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name, errors)
        return data


class ScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label="Start at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the server's time zone.",
    )


class TestSendForm(forms.Form):
    to = forms.EmailField(label="Send to", help_text="The address of a staff account.")


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
        return [
            path("<int:campaign_id>/audience/", audience, name="campaigns_campaign_audience"),
            path("<int:campaign_id>/test-send/", test_send, name="campaigns_campaign_test_send"),
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
            mail.send_test(campaign=campaign, to=data["to"], actor=request.user)
            return f"Test sent to {data['to']}."

        return form_page(
            self,
            request,
            form=TestSendForm(request.POST or None, initial={"to": request.user.email}),
            template="admin/campaigns/campaign/test_send.html",
            title=f"Test send of {campaign}",
            on_valid=send,
            then=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
            campaign=campaign,
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
