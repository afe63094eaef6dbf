"""Admin pages of a campaign's report: the charts, the CSV and the engagement export.

Served under /admin/campaigns/campaign/<id>/report/ inside `admin.site.admin_view` (staff only);
each view checks its own permission and calls `campaigns.reports` or `campaigns.engagement`.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from campaigns.engagement import engagement_csv, record_engagement_export
from campaigns.models import Campaign
from campaigns.reports import bar_chart, campaign_report, report_csv, summary_rows, timeline_chart


def _campaign(request: HttpRequest, pk: int, permission: str) -> Campaign:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    return get_object_or_404(Campaign, pk=pk)


@require_http_methods(["GET"])
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the campaign's aggregates with their charts."""
    campaign = _campaign(request, pk, "campaigns.view_campaign")
    data = campaign_report(campaign=campaign)
    summary = summary_rows(data)
    context = {
        **admin.site.each_context(request),
        "title": f"Report: {campaign.name}",
        "campaign": campaign,
        "report": data,
        "summary": summary,
        "funnel": bar_chart([(label, t.unique) for label, t in summary], what="Messages"),
        "countries": bar_chart(
            [(c.name, c.recipients) for c in data.countries], what="Recipients by country"
        ),
        "timeline": timeline_chart(data),
        "can_export": request.user.has_perm("campaigns.export_engagement"),
    }
    return TemplateResponse(request, "admin/campaigns/campaign/report.html", context)


@require_http_methods(["GET"])
def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the report over as CSV."""
    campaign = _campaign(request, pk, "campaigns.view_campaign")
    response = HttpResponse(report_csv(campaign_report(campaign=campaign)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-report.csv"'
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def engagement_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask why (GET), then stream the pseudonymised engagement CSV, audited (POST)."""
    campaign = _campaign(request, pk, "campaigns.export_engagement")
    error = ""
    if request.method == "POST":
        try:
            record_engagement_export(
                campaign=campaign, actor=request.user, reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            response = StreamingHttpResponse(engagement_csv(campaign), content_type="text/csv")
            response["Content-Disposition"] = (
                f'attachment; filename="campaign-{campaign.pk}-engagement.csv"'
            )
            add_never_cache_headers(response)
            return response
    context = {
        **admin.site.each_context(request),
        "title": f"Export engagement: {campaign.name}",
        "campaign": campaign,
        "error": error,
    }
    return TemplateResponse(
        request,
        "admin/campaigns/campaign/engagement_export.html",
        context,
        status=400 if error else 200,
    )
