"""Public campaign paths: open pixel, click redirect, web-activity script and beacon, webhook."""

from django.urls import path, re_path

from campaigns import views, visit_views

urlpatterns = [
    re_path(r"^t/o/(?P<token>[A-Za-z0-9_-]{1,64})\.gif$", views.open_pixel, name="track-open"),
    re_path(
        r"^t/c/(?P<token>[A-Za-z0-9_-]{1,64})/(?P<link_id>[0-9]{1,20})/$",
        views.click,
        name="track-click",
    ),
    re_path(
        r"^t/k/(?P<value>[A-Za-z0-9_.-]{1,200})/$", views.signed_click, name="track-signed-click"
    ),
    path("t/w/script.js", visit_views.tracker_script, name="web-tracker-script"),
    path("t/w/choice", visit_views.visitor_choice, name="web-visitor-choice"),
    path("t/w/beacon", visit_views.visit_beacon, name="web-visit-beacon"),
    path("t/w/p.gif", visit_views.visit_pixel, name="web-visit-pixel"),
    path("webhooks/email-provider/", views.provider_webhook, name="email-provider-webhook"),
]
