"""Language of each response: the visitor's on public pages, English on staff pages."""

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

# The admin and the API are for staff and integrators and stay in English whatever the browser
# asks for; Django's own admin catalogues would otherwise translate half of each screen.
STAFF_PREFIXES = ("/admin/", "/api/")


class PublicLocaleMiddleware(LocaleMiddleware):
    """Choose the language from the cookie, then Accept-Language, on public pages only."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(STAFF_PREFIXES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return
        super().process_request(request)
