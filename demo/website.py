"""The demo website: a stand-in for the operator's own site, with the web-activity script on it.

`make run` serves it at /demo/website/ and the demo campaign links to it, so a newcomer can follow
the whole way: the mail, the tracked click, the cookie banner, a few pages and a download, and
the visits on the contact's page in the admin. A real site includes the same one script tag
(docs/web-activity-snippet.md); nothing here is needed in production.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

PAGES = {
    "": ("Northwind Travel", "Spring routes are here"),
    "routes/": ("Routes and prices · Northwind Travel", "Routes and prices"),
}
# The smallest valid PDF: one empty page.
BROCHURE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def demo_page(request: HttpRequest, page: str = "") -> HttpResponse:
    """Render one page of the demo website."""
    if page not in PAGES:
        raise Http404("No such demo page.")
    title, heading = PAGES[page]
    return render(request, "demo/website.html", {"title": title, "heading": heading, "page": page})


def demo_brochure(request: HttpRequest) -> HttpResponse:
    """Hand out the demo brochure, the file whose download the script records."""
    response = HttpResponse(BROCHURE, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="spring-brochure.pdf"'
    return response
