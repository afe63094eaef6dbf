"""An access request end to end on a real Celery worker: form, mail, click, export, mail, zip.

The worker runs in this process (Redis in CI's second run, the file-system transport otherwise),
so the mails it sends land in the test outbox; the test polls for them with a deadline.
"""

import io
import json
import zipfile

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from privacy.models import SubjectExport, SubjectRequest
from tests.crm.factories import ContactFactory, InteractionFactory
from tests.privacy.request_steps import isolate, link_to, mails_to, submit
from tests.waiting import wait_for

DOWNLOAD = "/privacy/requests/download/"
VERIFY = "/privacy/requests/verify/"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_an_access_request_goes_from_the_form_to_the_download_on_a_worker(client):
    contact = ContactFactory(email="anouk.postma@example.org", first_name="Anouk")
    InteractionFactory(contact=contact, body="Anouk asked about the autumn catalogue.")

    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["default", "maintenance"],
        shutdown_timeout=30,
    ):
        assert submit(client, "access", "Anouk.Postma@example.org").status_code == 302
        (verify,) = wait_for(
            lambda: [m for m in mails_to(contact.email) if VERIFY in m.body], seconds=60
        )
        confirmed = client.post(link_to(verify.body, VERIFY))
        assert confirmed.status_code == 200
        (answer,) = wait_for(
            lambda: [m for m in mails_to(contact.email) if DOWNLOAD in m.body], seconds=60
        )

    subject_request = SubjectRequest.objects.get()
    assert subject_request.status == SubjectRequest.Status.COMPLETED
    assert SubjectExport.objects.get().request == subject_request
    response = client.get(link_to(answer.body, DOWNLOAD))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    (row,) = data["tables"]["crm.interaction"]["rows"]
    assert row["body"] == "Anouk asked about the autumn catalogue."
