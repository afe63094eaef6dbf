"""Marketing imports a client's list in the browser and watches its progress to the end."""

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model

from config.celery import app as celery_app
from crm.models import Client, Contact, ImportBatch
from crm.suppression import suppress
from tests.conftest import drop_queued_tasks
from tests.e2e.conftest import log_in_as_staff, screenshot
from tests.privacy.factories import ContactFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

LIST = (
    "Email;First name;Last name;Company\n"
    "lena.vos@example.org;Lena;Vos;Vos Bakkerij\n"
    'pieter.smit@example.org;Pieter;Smit;=HYPERLINK("http://example.net")\n'
    "not-an-address;Nobody;Here;\n"
    "opted.out@example.org;Olga;Out;\n"
    "known@example.org;Karin;Known;\n"
    "lena.vos@example.org;Lena;Twice;\n"
)


@pytest.fixture(scope="module")
def import_worker() -> Iterator[None]:
    """A real worker on the imports queue, as production runs one."""
    drop_queued_tasks()
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=["imports"], shutdown_timeout=30
    ):
        yield


def test_an_import_runs_from_upload_through_mapping_to_its_finished_progress_page(
    visitor_factory, import_worker, tmp_path
):
    admin = get_user_model().objects.create_superuser(
        "marketing", "marketing@example.org", "a long demo passphrase"
    )
    Client.objects.create(name="Bakkers Gilde")
    ContactFactory(email="known@example.org", first_name="", last_name="Known")
    suppress(email="opted.out@example.org", reason="unsubscribe")
    upload = tmp_path / "fair-visitors.csv"
    upload.write_text(LIST, encoding="cp1252")

    staff = visitor_factory("en-GB")
    log_in_as_staff(staff, admin, "a long demo passphrase")
    page = staff.open("/admin/crm/importbatch/add/")
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_label("Client").select_option(label="Bakkers Gilde")
    page.get_by_label("Legal basis").select_option(value="legitimate_interest")
    page.get_by_label("Attestation").fill("Visitors of the 2026 bakery fair, told on the form.")
    page.get_by_label("Collected on").fill("2026-10-03")
    page.get_by_role("button", name="Upload and map the columns").click()

    preview = page.locator("#import-preview").inner_text()
    assert "lena.vos@example.org" in preview and "known@example.org" in preview
    for field, column in (
        ("email", "Email"),
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("company", "Company"),
    ):
        page.locator(f"select[name={field}]").select_option(label=column)
    page.get_by_role("button", name="Start the import").click()

    # The page reloads itself (a meta refresh) until the worker has finished.
    page.locator("#import-status", has_text="Completed").wait_for(timeout=60_000)
    counts = page.locator("#import-counts").inner_text()
    assert "6 / 6: 2 created, 1 merged, 3 rejected" in counts
    done = page.locator("#import-done")
    assert done.get_attribute("value") == done.get_attribute("max") == "6"
    reasons = page.locator("#import-reasons").inner_text()
    assert "opted out" in reasons.lower()
    screenshot(page, "import-progress")

    batch = ImportBatch.objects.get()
    assert not batch.file  # the uploaded file is gone once the import ended
    assert Contact.objects.get(email="known@example.org").first_name == "Karin"
    assert Contact.objects.get(email="pieter.smit@example.org").company.name.startswith("=")
    assert not Contact.objects.filter(email="opted.out@example.org").exists()
