"""The screens of webhooks and art. 19 notices, and the notices on the privacy officer's queue.

Endpoints are registered by Administrators; the secret is shown once, in the message after the
endpoint is saved, and never on a page again. The delivery log is read-only apart from "send
again" on given-up deliveries. The request queue of the privacy app is extended here (it may
not import this app) with each request's notices and a column counting the outstanding ones.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from core.admin import ReadOnlyAdmin, ReadOnlyInlineMixin
from core.events import EventKind
from integrations.delivery import send_again
from integrations.endpoints import create_endpoint, rotate_secret, update_endpoint
from integrations.models import Delivery, RecipientNotice, WebhookEndpoint
from integrations.notices import OUTSTANDING, acknowledge_notice
from integrations.url_guard import check_webhook_url
from privacy.admin import requests as request_admin
from privacy.models import SubjectRequest


class EndpointForm(forms.ModelForm):
    """An endpoint's address, recipient and events; the secret is made by the service."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    event_kinds = forms.MultipleChoiceField(
        choices=EventKind.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "recipient", "event_kinds", "is_active")

    def clean_url(self) -> str:
        """Refuse a private or loopback address here, next to the field (the service does too)."""
        url = self.cleaned_data["url"]
        check_webhook_url(url)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("name", "url", "recipient", "is_active", "failing_since", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("recipient",)
    readonly_fields = ("failing_since", "created_at", "created_by")
    actions = ("give_new_secret",)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            update_endpoint(
                endpoint=obj,
                actor=request.user,
                channel="admin",
                **{name: data[name] for name in form.changed_data if name in data},
            )
            return
        endpoint, secret = create_endpoint(
            name=data["name"],
            url=data["url"],
            event_kinds=data["event_kinds"],
            recipient=data["recipient"],
            actor=request.user,
            channel="admin",
        )
        obj.pk = endpoint.pk
        messages.warning(
            request,
            f"Copy the signing secret now; it is not shown again: {secret}",
        )

    def has_delete_permission(self, request, obj=None):
        # Switch an endpoint off instead: its deliveries and notices are the record of art. 19.
        return False

    @admin.action(description="Give a new signing secret (shown once)", permissions=["change"])
    def give_new_secret(self, request, queryset):
        for endpoint in queryset:
            secret = rotate_secret(endpoint=endpoint, actor=request.user, channel="admin")
            messages.warning(request, f"New secret of {endpoint}, shown once: {secret}")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: status and attempts of each event sent; no payload once delivered."""

    list_display = (
        "kind",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "next_attempt_at",
    )
    list_filter = ("status", "kind", "endpoint")
    list_select_related = ("endpoint",)
    search_fields = ("=event_id",)
    readonly_fields = (*list_display[:-1], "event_id", "occurred_at", "contact_id")
    exclude = ("payload",)
    actions = ("send_again_action",)

    def has_send_again_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_delivery")

    @admin.action(description="Send again (given-up deliveries)", permissions=["send_again"])
    def send_again_action(self, request, queryset):
        queued = refused = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                send_again(delivery=delivery, actor=request.user, channel="admin")
            except ValidationError:
                refused += 1
            else:
                queued += 1
        self.message_user(request, f"{queued} queued again.")
        if refused:
            messages.warning(
                request,
                f"{refused} left as they were: only given-up deliveries can be sent again.",
            )


@admin.register(RecipientNotice)
class RecipientNoticeAdmin(ReadOnlyAdmin):
    """Art. 19: each change passed on to a recipient, how, and whether they acknowledged it."""

    list_display = (
        "reference_code",
        "change",
        "recipient",
        "request",
        "method",
        "status",
        "sent_at",
        "acknowledged_at",
    )
    list_filter = ("status", "method", "change", "recipient")
    list_select_related = ("recipient", "request")
    readonly_fields = (
        "request",
        "recipient",
        "change",
        "fields",
        "method",
        "status",
        "delivery",
        "created_at",
        "sent_at",
        "acknowledged_at",
        "acknowledged_by",
    )
    exclude = ("reference", "event_id", "contact_ref")
    actions = ("acknowledge",)

    def has_acknowledge_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_recipientnotice")

    @admin.action(description="Mark acknowledged by the recipient", permissions=["acknowledge"])
    def acknowledge(self, request, queryset):
        done = 0
        for notice in queryset.exclude(status=RecipientNotice.Status.ACKNOWLEDGED):
            acknowledge_notice(notice=notice, actor=request.user, channel="admin")
            done += 1
        self.message_user(request, f"{done} notices marked acknowledged.")


class RecipientNoticeInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The notices of a request: who was told, how, and whether they acknowledged it."""

    model = RecipientNotice
    fields = ("recipient", "change", "method", "status", "sent_at", "acknowledged_at")
    readonly_fields = fields
    verbose_name = "notice to a recipient (art. 19)"
    verbose_name_plural = "notices to recipients (art. 19)"


class NoticesWaitingFilter(admin.SimpleListFilter):
    """Requests with a change not yet acknowledged by one of the person's recipients."""

    title = "recipients (art. 19)"
    parameter_name = "recipients"

    def lookups(self, request, model_admin):
        return [("waiting", "A recipient has not acknowledged")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(notices_waiting__gt=0)
        return queryset


admin.site.unregister(SubjectRequest)


@admin.register(SubjectRequest)
class SubjectRequestAdmin(request_admin.SubjectRequestAdmin):
    """The privacy officer's queue, with the art. 19 notices still waiting for a recipient."""

    list_display = (*request_admin.SubjectRequestAdmin.list_display, "recipients_waiting")
    list_filter = (*request_admin.SubjectRequestAdmin.list_filter, NoticesWaitingFilter)

    def get_inlines(self, request, obj):
        # A request being logged has no notices yet; its add form carries no inline.
        inlines = super().get_inlines(request, obj)
        return inlines if obj is None else (*inlines, RecipientNoticeInline)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                notices_waiting=Count(
                    "recipient_notices", filter=Q(recipient_notices__status__in=OUTSTANDING)
                )
            )
        )

    @admin.display(description="recipients to hear from", ordering="notices_waiting")
    def recipients_waiting(self, obj) -> int | str:
        return obj.notices_waiting or ""
