"""URLs. The public paths and /healthz are a stable interface (see DESIGN.md)."""

from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from campaigns import report_views
from campaigns import views as campaign_views
from campaigns.api import CampaignViewSet
from config import operations_views, views
from crm.api import CompanyViewSet, ContactViewSet, InvoiceViewSet
from crm.imports.api import ImportViewSet
from demo import views as demo_views
from integrations.api import DeliveryViewSet, EndpointViewSet
from privacy import api as privacy_api
from privacy import views as privacy_views
from privacy.requests import views as request_views
from privacy.staff import staff_auth

privacy_api_urls = [
    path("consents/", privacy_api.ConsentCreateView.as_view(), name="consent-list"),
    path(
        "contacts/<int:pk>/consents/",
        privacy_api.ContactConsentsView.as_view(),
        name="contact-consents",
    ),
    path("contacts/<int:pk>/merge/", privacy_api.ContactMergeView.as_view(), name="contact-merge"),
    path("requests/", privacy_api.SubjectRequestCreateView.as_view(), name="request-list"),
    path(
        "requests/<int:pk>/",
        privacy_api.SubjectRequestDetailView.as_view(),
        name="request-detail",
    ),
    path(
        "suppressions/check/",
        privacy_api.SuppressionCheckView.as_view(),
        name="suppression-check",
    ),
    path(
        "recipients/<int:pk>/hand-overs/",
        privacy_api.HandOverCreateView.as_view(),
        name="recipient-hand-overs",
    ),
]

router = DefaultRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("companies", CompanyViewSet, basename="company")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("imports", ImportViewSet, basename="import")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("webhooks/endpoints", EndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/deliveries", DeliveryViewSet, basename="webhook-delivery")

admin.site.site_header = "Privacy-first CRM"
admin.site.site_title = "CRM"
admin.site.index_title = "Contacts, privacy and campaigns"
admin.site.login_form = staff_auth.LockoutAuthenticationForm

MOVED_ADMIN_PAGES = {
    "admin/privacy/auditevent/": "/admin/core/auditevent/",
    "admin/privacy/suppression/": "/admin/crm/suppression/",
    "admin/config/outboxtask/": "/admin/core/outboxtask/",
}

urlpatterns = [
    # First: the open pixel and the click redirect are the most frequent requests by far, and
    # every pattern tried before theirs is time spent on each of them.
    path("", include("campaigns.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/ready", views.ready, name="healthz-ready"),
    path("privacy/", privacy_views.privacy_statement, name="privacy"),
    path(
        "privacy/versions/<str:version>/",
        privacy_views.notice_version,
        name="privacy-notice-version",
    ),
    path("privacy/requests/new/", request_views.new_request, name="privacy-request-new"),
    path("privacy/requests/sent/", request_views.request_sent, name="privacy-request-sent"),
    path(
        "privacy/requests/verify/<str:token>/",
        request_views.verify,
        name="privacy-request-verify",
    ),
    path(
        "privacy/requests/status/<str:token>/",
        request_views.status,
        name="privacy-request-status",
    ),
    path(
        "privacy/requests/download/<str:token>/",
        request_views.download,
        name="privacy-export-download",
    ),
    path("subscribe/", privacy_views.subscribe, name="subscribe"),
    path("subscribe/sent/", privacy_views.subscribe_sent, name="subscribe-sent"),
    path(
        "subscribe/confirm/<str:token>/",
        privacy_views.subscribe_confirm,
        name="subscribe-confirm",
    ),
    path("preferences/<str:token>/", privacy_views.preferences, name="preferences"),
    path("u/<str:token>/", campaign_views.unsubscribe_link, name="unsubscribe"),
    path("contact/", privacy_views.contact_message, name="contact"),
    # The language switcher of the public pages posts here. Exempt from CSRF: a forged post can
    # only change the language someone reads in, while a token would make every public page
    # differ per visitor (pages that answer everyone the same, byte for byte) and set a cookie.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("demo/website/", include("demo.urls")),
    # Before admin.site.urls, whose catch-all would answer these paths with a 404.
    path(
        "admin/privacy/register/<str:document>",
        admin.site.admin_view(privacy_views.register_export),
        name="privacy-register-export",
    ),
    path("admin/tour/dismiss/", admin.site.admin_view(demo_views.dismiss), name="tour-dismiss"),
    path("admin/tour/reopen/", admin.site.admin_view(demo_views.reopen), name="tour-reopen"),
    path(
        "admin/operations/",
        admin.site.admin_view(operations_views.operations),
        name="operations",
    ),
    path(
        "admin/two-factor/",
        admin.site.admin_view(staff_auth.two_factor),
        name="two-factor",
    ),
    path(
        "admin/two-factor/qr.svg",
        admin.site.admin_view(staff_auth.two_factor_qr),
        name="two-factor-qr",
    ),
    path(
        "admin/two-factor/recovery-codes/",
        admin.site.admin_view(staff_auth.new_recovery_codes),
        name="two-factor-recovery-codes",
    ),
    path(
        "admin/campaigns/campaign/<int:pk>/report/",
        admin.site.admin_view(report_views.report),
        name="campaign-report",
    ),
    path(
        "admin/campaigns/campaign/<int:pk>/report/csv/",
        admin.site.admin_view(report_views.report_download),
        name="campaign-report-csv",
    ),
    path(
        "admin/campaigns/campaign/<int:pk>/report/engagement/",
        admin.site.admin_view(report_views.engagement_export),
        name="campaign-engagement-export",
    ),
    *(
        # Screens that moved to the ground floor or the CRM: old bookmarks still land on them.
        path(
            f"{old}<path:rest>",
            RedirectView.as_view(url=f"{new}%(rest)s", query_string=True, permanent=True),
        )
        for old, new in MOVED_ADMIN_PAGES.items()
    ),
    *(
        path(old, RedirectView.as_view(url=new, query_string=True, permanent=True))
        for old, new in MOVED_ADMIN_PAGES.items()
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include((router.urls + privacy_api_urls, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
