"""Erasure certificates: the subject's own identifiers, namesakes left alone, leftovers reviewed."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse

from crm.models import Company
from privacy.models import ErasureCertificate
from privacy.requests.subject_requests import act_on_request, approve_erasure
from tests.crm.factories import CompanyFactory, InteractionFactory
from tests.privacy.factories import ContactFactory
from tests.privacy.pages import text
from tests.privacy.request_steps import isolate, mails_to, submit_and_verify
from tests.staff import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("controller_named")]

ADDRESS = "ana.pop@example.org"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


@pytest.fixture
def erase_through_a_request(client, django_capture_on_commit_callbacks):
    """Return a function: the person asks, verifies, the officer approves; the certificate."""

    def erase() -> ErasureCertificate:
        erasure = submit_and_verify(client, "erasure", ADDRESS)
        act_on_request(request_id=erasure.pk)
        erasure.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            approve_erasure(request=erasure, actor=staff_member("Privacy officer", "officer"))
        return ErasureCertificate.objects.get(request=erasure)

    return erase


def test_a_namesake_and_a_shared_switchboard_number_are_not_leftovers(erase_through_a_request):
    ContactFactory(first_name="Ana", last_name="Pop", email=ADDRESS, phone="+40212223344")
    namesake = ContactFactory(
        first_name="Ana", last_name="Pop", email="ana.pop@example.net", phone="+40212223344"
    )
    InteractionFactory(contact=namesake, body="Ana Pop called from +40212223344.")

    certificate = erase_through_a_request()

    assert certificate.rows_found == 0
    assert certificate.scan_method["crm.contact"]["rows"] == "not linked to another contact"
    assert certificate.scan_method["crm.contact"]["looked_for"] == [
        "e-mail address",
        "phone number",
    ]
    assert certificate.scan_method["crm.interaction"]["fields"]["body"] == "contains"
    answer = mails_to(ADDRESS)[-1].body
    assert "Your data is erased" in answer
    assert "left anywhere" not in answer


def test_the_contact_table_is_scanned_by_address_and_phone_only(erase_through_a_request):
    ContactFactory(first_name="Ana", last_name="Pop", email=ADDRESS, phone="+40212223344")

    certificate = erase_through_a_request()

    # Names, job titles and countries cannot hold an address or phone: the registry says so.
    assert certificate.scan_method["crm.contact"]["fields"] == {
        "email": "equals",
        "phone": "equals",
    }
    assert certificate.rows_found == 0


def test_a_real_leftover_is_a_task_for_the_officer_not_a_sentence_to_the_requester(
    client, erase_through_a_request, capsys
):
    officer = staff_member("Privacy officer", "po")
    ContactFactory(first_name="Ana", last_name="Pop", email=ADDRESS)
    company = CompanyFactory()
    LogEntry.objects.create(
        user=officer,
        content_type=ContentType.objects.get_for_model(Company),
        object_id=str(company.pk),
        object_repr=company.name,
        action_flag=CHANGE,
        change_message=f"Billing contact is now {ADDRESS}.",
    )

    certificate = erase_through_a_request()

    assert certificate.rows_found == 1
    assert certificate.scan["admin.logentry"] == 1
    answer = mails_to(ADDRESS)[-1].body
    assert "Your data is erased" in answer
    assert "found" not in answer
    assert "left anywhere" not in answer
    call_command("privacy_check")
    assert (
        "Erasure certificates whose scan found leftovers, to review: 1" in capsys.readouterr().out
    )

    admin = client
    admin.force_login(officer)
    listing = reverse("admin:privacy_erasurecertificate_changelist")
    assert str(certificate) in text(admin.get(listing, {"leftovers": "review"}))
    admin.post(listing, {"action": "mark_reviewed", "_selected_action": [certificate.pk]})

    certificate.refresh_from_db()
    assert certificate.reviewed_by == officer
    call_command("privacy_check")
    assert "to review: 0" in capsys.readouterr().out


def test_officers_read_certificates_in_the_admin_and_nobody_edits_them(
    client, erase_through_a_request
):
    ContactFactory(email=ADDRESS)
    certificate = erase_through_a_request()
    page = reverse("admin:privacy_erasurecertificate_change", args=[certificate.pk])

    client.force_login(staff_member("Privacy officer", "reader"))
    shown = client.get(page)
    assert shown.status_code == 200
    assert "not linked to another contact" in text(shown)
    assert 'name="_save"' not in text(shown)
    assert client.get(reverse("admin:privacy_erasurecertificate_add")).status_code == 403

    client.force_login(staff_member("Support"))
    assert client.get(page).status_code == 403
