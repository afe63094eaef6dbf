"""The demo website's paths, under /demo/website/."""

from django.urls import path

from demo import website

urlpatterns = [
    path("", website.demo_page, name="demo-website"),
    path("brochure.pdf", website.demo_brochure, name="demo-website-brochure"),
    path("<path:page>", website.demo_page, name="demo-website-page"),
]
