"""The record of processing, the processor register and disclosures: admin, public page, exports.

The seeded examples come from migration 0011; a transactional test elsewhere flushes them, so the
tests that read them run the migration's function again (with the seeded purposes of 0003 first).
"""

import csv
import importlib
import io
import re
from html import unescape

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from privacy.models import Disclosure, ProcessingActivity, Processor, Purpose
from privacy.staff.roles import role_permissions
from tests.crm.factories import ContactFactory
from tests.privacy.factories import PurposeFactory
from tests.privacy.pages import text

pytestmark = pytest.mark.django_db

ACTIVITIES_URL = reverse("admin:privacy_processingactivity_changelist")
PROCESSORS_URL = reverse("admin:privacy_processor_changelist")
PROCESSOR_ADD_URL = reverse("admin:privacy_processor_add")
DISCLOSURE_ADD_URL = reverse("admin:privacy_disclosure_add")


def export_url(document: str) -> str:
    return reverse("privacy-register-export", args=[document])


def seed_migration(name: str):
    return importlib.import_module(f"privacy.migrations.{name}")


@pytest.fixture
def seeded() -> None:
    """The examples of migration 0011, seeded again if a transactional test flushed them."""
    if not Purpose.objects.filter(code="support").exists():
        seed_migration("0003_default_purposes").seed(apps, None)
    seed_migration("0011_register_examples").seed(apps, None)


def activity(**fields) -> ProcessingActivity:
    purposes = fields.pop("purposes", None) or [PurposeFactory()]
    values = {
        "name": "Webinar sign-ups",
        "data_subjects": "People who sign up for a webinar",
        "data_categories": "Name, e-mail address, company",
        "recipients": "Example Webinars GmbH",
        "storage": "The CRM's database in the EU",
        "retention": "Six months after the webinar",
        "access": "Marketing staff",
        **fields,
    }
    created = ProcessingActivity.objects.create(**values)
    created.purposes.set(purposes)
    return created


def processor(**fields) -> Processor:
    values = {
        "name": "Example Webinars GmbH",
        "service": "Webinar hosting",
        "data_shared": "Name and e-mail address of attendees",
        "location": "Germany",
        **fields,
    }
    return Processor.objects.create(**values)


def row(page, name: str) -> str:
    """Return the table row whose heading cell is `name`, as HTML, or '' when there is none."""
    match = re.search(rf'<tr><th scope="row">{re.escape(name)}</th>(.*?)</tr>', text(page), re.S)
    return unescape(match.group(1)) if match else ""


def activity_form(obj: ProcessingActivity, **changes) -> dict:
    """The change form of an activity as the officer submits it."""
    data = {
        "name": obj.name,
        "purposes": [p.pk for p in obj.purposes.all()],
        "is_public": "on" if obj.is_public else "",
        "data_subjects": obj.data_subjects,
        "data_categories": obj.data_categories,
        "recipients": obj.recipients,
        "access": obj.access,
        "storage": obj.storage,
        "retention": obj.retention,
        "transfer_outside_eu": "on" if obj.transfer_outside_eu else "",
        "transfer_country": obj.transfer_country,
        "transfer_safeguard": obj.transfer_safeguard,
        **changes,
    }
    return {k: v for k, v in data.items() if v != ""}


def staff_with_role(role: str):
    """A staff account holding exactly the permissions of `role` in privacy.staff.roles."""
    user = get_user_model().objects.create_user(username=role.lower(), is_staff=True)
    for label in role_permissions(role):
        app_label, codename = label.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def csv_row(response, column: str, value: str) -> dict[str, str]:
    """Return the CSV file's row whose `column` holds `value` (the file starts with a BOM)."""
    rows = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    (found,) = [r for r in rows if r[column] == value]
    return found


def exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED))


# Seeded examples --------------------------------------------------------------------------------


def test_the_seed_policies_examples_are_in_the_registers(seeded):
    activities = {a.name: a for a in ProcessingActivity.objects.prefetch_related("purposes")}
    assert {"Contact form", "Customer account", "Newsletter"} <= set(activities)
    assert {p.code for p in activities["Newsletter"].purposes.all()} == {
        "newsletter",
        "marketing_email",
        "analytics",
    }
    assert {p.code for p in activities["Contact form"].purposes.all()} == {"support"}
    processors = {p.service: p for p in Processor.objects.all()}
    assert {"Social login provider", "Web analytics", "Advertising platform", "Parcel carrier"} <= (
        set(processors)
    )
    social = processors["Social login provider"]
    assert (social.location, social.outside_eu) == ("United States", True)
    assert "contractual clauses" in social.safeguard
    assert "Data Privacy Framework" in processors["Advertising platform"].safeguard
    assert processors["Web analytics"].outside_eu is False
    assert processors["Parcel carrier"].location == "Netherlands"


def test_seeding_again_adds_nothing_and_keeps_the_officers_edits(seeded):
    ProcessingActivity.objects.filter(name="Newsletter").update(retention="Edited by the officer")
    counts = (ProcessingActivity.objects.count(), Processor.objects.count())

    seed_migration("0011_register_examples").seed(apps, None)

    assert (ProcessingActivity.objects.count(), Processor.objects.count()) == counts
    assert ProcessingActivity.objects.get(name="Newsletter").retention == "Edited by the officer"


def test_unseeding_removes_only_the_examples(seeded):
    own = processor()

    seed_migration("0011_register_examples").unseed(apps, None)

    assert not ProcessingActivity.objects.filter(name="Newsletter").exists()
    assert list(Processor.objects.all()) == [own]


# The public privacy page ----------------------------------------------------------------------


def test_the_public_page_shows_public_activities_and_every_processor(client, notice):
    support = PurposeFactory(name="Answering questions", legal_basis="legitimate_interest")
    activity(
        purposes=[support],
        transfer_outside_eu=True,
        transfer_country="Canada",
        transfer_safeguard="Adequacy decision (art. 45)",
    )
    activity(name="Staff sick leave", is_public=False)
    processor()
    processor(
        name="Example Cloud Inc.",
        service="Hosting",
        location="United States",
        outside_eu=True,
        safeguard="Standard contractual clauses",
    )

    page = client.get("/privacy/")

    assert page.status_code == 200
    assert row(page, "Webinar sign-ups") == (
        "<td>Answering questions: Legitimate interest (art. 6(1)(f))</td>"
        '<td>Name, e-mail address, company <span class="meta">'
        "(People who sign up for a webinar)</span></td>"
        "<td>Example Webinars GmbH</td><td>The CRM's database in the EU</td>"
        "<td>Six months after the webinar</td>"
        "<td>Canada; safeguard: Adequacy decision (art. 45)</td>"
    )
    assert row(page, "Example Webinars GmbH") == (
        "<td>Webinar hosting</td><td>Name and e-mail address of attendees</td>"
        "<td>Germany</td><td>No</td><td>Not needed</td>"
    )
    assert row(page, "Example Cloud Inc.").endswith(
        "<td>United States</td><td>Yes</td><td>Standard contractual clauses</td>"
    )
    assert "Staff sick leave" not in text(page)


def test_the_public_page_keeps_the_purposes_and_retention_sections(client, notice):
    page = client.get("/privacy/")
    for anchor in ('id="purposes"', 'id="processing"', 'id="processors"', 'id="retention"'):
        assert anchor in text(page)


def test_editing_an_activity_in_the_admin_changes_the_public_page(client, admin_client, notice):
    webinars = activity()
    assert "Six months after the webinar" in row(client.get("/privacy/"), "Webinar sign-ups")

    response = admin_client.post(
        reverse("admin:privacy_processingactivity_change", args=[webinars.pk]),
        activity_form(webinars, retention="Three months after the webinar"),
    )

    assert response.status_code == 302
    shown = row(client.get("/privacy/"), "Webinar sign-ups")
    assert "Three months after the webinar" in shown
    assert "Six months" not in shown


# Transfers outside the EU need a safeguard ------------------------------------------------------


def test_a_processor_outside_the_eu_without_a_safeguard_is_refused_next_to_the_field(
    admin_client,
):
    page = admin_client.post(
        PROCESSOR_ADD_URL,
        {
            "name": "Example Mailer Corp.",
            "service": "E-mail delivery",
            "data_shared": "E-mail addresses",
            "location": "United States",
            "outside_eu": "on",
            "safeguard": "   ",
        },
    )

    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert list(errors) == ["safeguard"]
    assert errors["safeguard"][0].startswith("Data leaves the EU here: name the safeguard")
    assert errors["safeguard"][0].endswith("or untick “Outside the EU”.")
    assert re.search(r'field-safeguard">\s*<ul class="errorlist"', text(page))
    assert not Processor.objects.filter(name="Example Mailer Corp.").exists()


def test_an_activity_transferring_outside_the_eu_without_a_safeguard_is_refused(admin_client):
    webinars = activity()

    page = admin_client.post(
        reverse("admin:privacy_processingactivity_change", args=[webinars.pk]),
        activity_form(webinars, transfer_outside_eu="on", transfer_country="United States"),
    )

    assert page.status_code == 200
    assert list(page.context["adminform"].form.errors) == ["transfer_safeguard"]
    webinars.refresh_from_db()
    assert (webinars.transfer_outside_eu, webinars.transfer_country) == (False, "")


def test_the_lists_flag_a_transfer_without_a_safeguard(admin_client):
    processor(name="Example Mailer Corp.", location="United States", outside_eu=True)
    processor(name="Example Cloud Inc.", outside_eu=True, safeguard="SCCs")
    activity(transfer_outside_eu=True, transfer_country="India")

    processors = admin_client.get(PROCESSORS_URL)
    missing = admin_client.get(PROCESSORS_URL, {"transfer": "missing"})
    activities = admin_client.get(ACTIVITIES_URL)

    assert text(processors).count("No safeguard: transfer not allowed") == 1
    assert "Example Mailer Corp." in text(missing)
    assert "Example Cloud Inc." not in text(missing)
    assert "No safeguard: transfer not allowed" in text(activities)


# Exports ---------------------------------------------------------------------------------------


def test_the_change_lists_link_to_the_exports(admin_client):
    for url in (ACTIVITIES_URL, PROCESSORS_URL):
        page = text(admin_client.get(url))
        for document in ("record.html", "activities.csv", "processors.csv"):
            assert f'href="{export_url(document)}"' in page


def test_the_csv_export_neutralises_formulas_and_is_audited(admin_client, admin_user):
    activity(name='=HYPERLINK("https://example.net")', recipients="@SUM(A1)")
    processor(name="+Example Corp.", data_shared="-1+1", location="Netherlands")

    activities_csv = admin_client.get(export_url("activities.csv"))
    processors_csv = admin_client.get(export_url("processors.csv"))

    assert activities_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert activities_csv["Content-Disposition"].startswith("attachment; filename=")
    webinars = csv_row(activities_csv, "activity", '\'=HYPERLINK("https://example.net")')
    assert webinars["recipients"] == "'@SUM(A1)"
    assert webinars["storage"] == "The CRM's database in the EU"
    example = csv_row(processors_csv, "processor", "'+Example Corp.")
    assert (example["data shared"], example["location"]) == ("'-1+1", "Netherlands")
    audited = exports()
    assert [event.details["document"] for event in audited] == ["processors.csv", "activities.csv"]
    assert all(event.actor == admin_user and event.channel == "admin" for event in audited)


def test_the_html_export_is_a_readable_page_of_both_registers(admin_client):
    activity(name="Webinar <sign-ups>")
    processor(name="Example Mailer Corp.", outside_eu=True, location="United States")

    page = admin_client.get(export_url("record.html"))

    assert page.status_code == 200
    assert page["Content-Type"] == "text/html; charset=utf-8"
    body = text(page)
    assert "<h1>Record of processing activities and processor register</h1>" in body
    assert '<th scope="row">Webinar &lt;sign-ups&gt;</th>' in body
    assert '<th scope="row">Example Mailer Corp.</th>' in body
    assert "Transfers outside the EU without a safeguard: Example Mailer Corp." in body
    assert [event.details["document"] for event in exports()] == ["record.html"]


def test_an_empty_register_exports_and_is_audited_all_the_same(admin_client):
    ProcessingActivity.objects.all().delete()

    page = admin_client.get(export_url("activities.csv"))

    assert page.status_code == 200
    assert [event.details for event in exports()] == [
        {"document": "activities.csv", "register": "processingactivity"}
    ]


def test_marketing_cannot_export_the_register(client):
    client.force_login(staff_with_role("Marketing"))

    for document in ("record.html", "activities.csv", "processors.csv"):
        assert client.get(export_url(document)).status_code == 403
    assert exports() == []


def test_the_exports_need_a_staff_login(client):
    response = client.get(export_url("activities.csv"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_unknown_document_is_not_found(admin_client):
    assert admin_client.get(export_url("everything.xlsx")).status_code == 404
    assert exports() == []


# Disclosures -----------------------------------------------------------------------------------


def test_a_disclosure_records_who_handled_it_and_is_audited(admin_client, admin_user):
    contact = ContactFactory()

    response = admin_client.post(
        DISCLOSURE_ADD_URL,
        {
            "authority": "Example Police Department",
            "legal_ground": "Art. 126nd of the Code of Criminal Procedure",
            "reference": "2026-0042",
            "disclosed_on": "2026-11-20",
            "contact": contact.pk,
            "data_given": "Name and e-mail address",
        },
    )

    assert response.status_code == 302
    disclosure = Disclosure.objects.get()
    assert disclosure.handled_by == admin_user
    assert disclosure.contact == contact
    (event,) = AuditEvent.objects.filter(object_type__model="disclosure")
    assert (event.action, event.actor, event.object_id) == (
        AuditEvent.Action.CREATED,
        admin_user,
        str(disclosure.pk),
    )
    assert "data_given" in event.details["fields"]
    assert "Name and e-mail" not in str(event.details)


def test_a_disclosure_cannot_be_deleted_and_its_handler_cannot_be_changed(admin_client):
    other = get_user_model().objects.create_user(username="someone-else", is_staff=True)
    admin_client.post(
        DISCLOSURE_ADD_URL,
        {
            "authority": "Example Tax Office",
            "legal_ground": "Tax law, information order",
            "disclosed_on": "2026-11-20",
            "data_given": "Invoices of one customer",
        },
    )
    disclosure = Disclosure.objects.get()
    change_url = reverse("admin:privacy_disclosure_change", args=[disclosure.pk])

    admin_client.post(
        change_url,
        {
            "authority": "Example Tax Office",
            "legal_ground": "Tax law, information order",
            "reference": "T-7",
            "disclosed_on": "2026-11-20",
            "data_given": "Invoices of one customer",
            "handled_by": other.pk,
        },
    )

    disclosure.refresh_from_db()
    assert disclosure.reference == "T-7"
    assert disclosure.handled_by != other
    changed = AuditEvent.objects.get(
        object_type__model="disclosure", action=AuditEvent.Action.CHANGED
    )
    assert changed.details["fields"] == ["reference"]
    delete_url = reverse("admin:privacy_disclosure_delete", args=[disclosure.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Disclosure.objects.exists()


def test_the_activity_list_and_the_public_page_run_the_same_queries_for_3_or_13_rows(
    client, admin_client, notice
):
    def queries(url: str, browser) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(url).status_code == 200
        return len(captured)

    for n in range(3):
        activity(name=f"Activity {n}")
        processor(name=f"Processor {n}")
    few = (queries(ACTIVITIES_URL, admin_client), queries("/privacy/", client))
    for n in range(3, 13):
        activity(name=f"Activity {n}")
        processor(name=f"Processor {n}")
    assert (queries(ACTIVITIES_URL, admin_client), queries("/privacy/", client)) == few
