"""Public campaign paths: /t/o/<token>.gif, /t/c/<token>/<link>/ and the provider webhook."""

from django.urls import path, re_path

from campaigns import views

urlpatterns = [
    re_path(r"^t/o/(?P<token>[A-Za-z0-9_-]{1,64})\.gif$", views.open_pixel, name="track-open"),
    re_path(
        r"^t/c/(?P<token>[A-Za-z0-9_-]{1,64})/(?P<link_id>[0-9]{1,20})/$",
        views.click,
        name="track-click",
    ),
    path("webhooks/email-provider/", views.provider_webhook, name="email-provider-webhook"),
]
