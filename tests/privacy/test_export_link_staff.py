"""A requester's export link is theirs: other roles never see it, staff downloads are their own."""

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from privacy.links import download_url
from privacy.models import SubjectExport
from tests.privacy.pages import site_path, text
from tests.privacy.request_steps import exports_linked, isolate
from tests.privacy.test_exports import answered, download, subject  # noqa: F401 (fixture)
from tests.staff import staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


@pytest.fixture
def answered_request(subject, django_capture_on_commit_callbacks):  # noqa: F811
    return answered(Client(), "access", subject.email, django_capture_on_commit_callbacks)


def logged_in(role: str) -> Client:
    client = Client()
    client.force_login(staff_member(role))
    return client


def test_support_sees_the_request_outcome_without_the_download_link(answered_request):
    export = SubjectExport.objects.get()
    page_url = reverse("admin:privacy_subjectrequest_change", args=[answered_request.pk])

    for_support = logged_in("Support").get(page_url)
    for_officer = logged_in("Privacy officer").get(page_url)

    assert for_support.status_code == 200
    assert exports_linked(for_support.content.decode()) == set()
    assert "download link: shown to the privacy officer only" in text(for_support)
    assert exports_linked(for_officer.content.decode()) == {export.pk}


def test_support_following_the_link_is_refused_and_nothing_is_counted(answered_request):
    export = SubjectExport.objects.get()
    support = logged_in("Support")
    audit_before = AuditEvent.objects.count()

    refused = support.get(site_path(download_url(export)))

    assert refused.status_code == 403
    export.refresh_from_db()
    assert export.downloads == 0
    assert AuditEvent.objects.count() == audit_before


def test_an_officer_download_is_logged_as_the_officer_not_the_requester(answered_request):
    export = SubjectExport.objects.get()
    officer = logged_in("Privacy officer")

    download(officer, site_path(download_url(export)))

    export.refresh_from_db()
    assert export.downloads == 0
    event = AuditEvent.objects.get(object_type__model="subjectexport", details__download=True)
    assert (event.actor.username, event.channel) == ("privacy-officer", "admin")
    download(Client(), site_path(download_url(export)))
    export.refresh_from_db()
    assert export.downloads == 1
