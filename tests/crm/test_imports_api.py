"""The list-import API over real HTTP: upload with the client's statement, progress, report."""

import httpx
import pytest
from openpyxl import Workbook

from crm.imports.batches import run_batch
from crm.models import Contact, ImportBatch
from tests.crm.factories import ClientFactory

pytestmark = pytest.mark.django_db(transaction=True)

LIST = b"E-mail,First name\r\nanna@example.org,Anna\r\nnot an address,Bram\r\n"
STATEMENT = {
    "source_kind": "client_list",
    "legal_basis": "consent",
    "attestation": "Visitors of the spring fair ticked the box.",
    "collected_on": "2026-03-01",
}


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def api(live_server, staff_token):
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1/",
        headers={"Authorization": f"Token {staff_token}"},
        timeout=10,
    ) as client:
        yield client


def test_a_list_uploaded_through_the_api_runs_and_reports_its_progress(api):
    tulip = ClientFactory(name="Tulip Events")
    answer = api.post(
        "imports/",
        data={**STATEMENT, "client": str(tulip.pk)},
        files={"file": ("fair.csv", LIST, "text/csv")},
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["status"], body["mapping"]) == ("queued", {"email": 0, "first_name": 1})
    run_batch(batch_id=body["id"])  # what the imports worker does with the queued task
    status = api.get(f"imports/{body['id']}/").json()
    assert (status["status"], status["created"], status["rejected"]) == ("completed", 1, 1)
    assert status["rejected_by_reason"] == {"invalid_email": 1}
    report = api.get(status["report_url"].removeprefix("/api/v1/"))
    assert report.text.splitlines()[1].startswith("3,Invalid e-mail address,")


def test_a_mapping_without_an_email_column_is_refused_and_nothing_is_written(api):
    tulip = ClientFactory(name="Tulip Events")
    answer = api.post(
        "imports/",
        data={**STATEMENT, "client": str(tulip.pk), "mapping": '{"first_name": "First name"}'},
        files={"file": ("fair.csv", LIST, "text/csv")},
    )
    assert answer.status_code == 400
    assert "Map one column to E-mail" in answer.json()["mapping"][0]
    assert not ImportBatch.objects.exists()
    assert not Contact.objects.exists()


def test_an_empty_file_is_refused_with_a_clear_message(api):
    tulip = ClientFactory(name="Tulip Events")
    answer = api.post(
        "imports/",
        data={**STATEMENT, "client": str(tulip.pk)},
        files={"file": ("empty.csv", b"E-mail\r\n", "text/csv")},
    )
    assert answer.status_code == 400
    assert answer.json()["file"] == ["The file has a header row but no rows below it."]


def test_a_workbook_with_several_sheets_needs_its_sheet_named_through_the_api(api, tmp_path):
    book = Workbook()
    book.active.title = "Spring"
    book.active.append(["E-mail"])
    book.active.append(["spring@example.org"])
    autumn = book.create_sheet("Autumn")
    autumn.append(["E-mail"])
    autumn.append(["autumn@example.org"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    statement = {**STATEMENT, "client": str(ClientFactory(name="Tulip Events").pk)}

    refused = api.post(
        "imports/", data=statement, files={"file": ("book.xlsx", path.read_bytes(), xlsx)}
    )
    assert refused.status_code == 400
    assert refused.json()["sheet"] == [
        "This workbook has 2 sheets holding data: 'Spring', 'Autumn'. Choose the one to import."
    ]
    assert not ImportBatch.objects.exists()

    answer = api.post(
        "imports/",
        data={**statement, "sheet": "Autumn"},
        files={"file": ("book.xlsx", path.read_bytes(), xlsx)},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["sheet"] == "Autumn"
    run_batch(batch_id=answer.json()["id"])
    assert list(Contact.objects.values_list("email", flat=True)) == ["autumn@example.org"]
    assert api.get(f"imports/{answer.json()['id']}/").json()["nul_bytes_dropped"] == 0
