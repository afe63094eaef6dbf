"""List imports on a real Celery worker: the admin's flow end to end, a worker killed half-way.

The worker is killed while it reads the file, and in the middle of its merge; both resume to the
result of an uninterrupted run.
"""

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from config.celery import app as celery_app
from crm.imports.batches import Attestation, create_batch, resume_batch
from crm.models import Contact, ContactSource, ImportBatch, ImportRejection
from tests.crm.factories import ClientFactory, ContactFactory
from tests.privacy.test_roles import run_roles_migration
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
POSTGRESQL = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def list_file(rows: int) -> bytes:
    """A list of `rows` people; every tenth repeats the row before it, every 25th is invalid."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Email", "Voornaam", "Achternaam"])
    for number in range(rows):
        if number % 25 == 24:
            writer.writerow([f"broken{number}.example.org", "Broken", ""])
        elif number % 10 == 9:
            writer.writerow([f"person{number - 1}@example.org", "Again", ""])
        else:
            writer.writerow([f"person{number}@example.org", f"P{number}", "Jansen"])
    return out.getvalue().encode()


def wait_for_batch(batch: ImportBatch, *, statuses: set[str]) -> ImportBatch:
    """Wait until the worker has taken the batch to one of `statuses`."""
    return wait_for(
        lambda: ImportBatch.objects.filter(pk=batch.pk, status__in=statuses).first(), seconds=120
    )


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_marketing_imports_a_list_in_the_admin_and_watches_it_on_the_worker(
    client, django_user_model
):
    run_roles_migration()  # transactional tests flush the groups
    user = django_user_model.objects.create_user(username="mia", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    client.force_login(user)
    tulip = ClientFactory(name="Tulip Events")
    ContactFactory(email="person0@example.org", first_name="Known", last_name="")

    answer = client.post(
        reverse("admin:crm_importbatch_add"),
        {
            "file": SimpleUploadedFile("fair.csv", list_file(50)),
            "source_kind": "client_list",
            "client": tulip.pk,
            "list_name": "Spring fair",
            "legal_basis": "consent",
            "attestation": "Visitors ticked the box to hear from partners.",
            "collected_on": "2026-03-01",
        },
    )
    batch = ImportBatch.objects.get()
    assert answer.url == reverse("admin:crm_importbatch_map", args=[batch.pk])
    page = client.get(answer.url).content.decode()
    assert "person0@example.org" in page  # the preview of the first rows
    assert re.search(r'<option value="0" selected>Email</option>', page)  # guessed

    answer = client.post(answer.url, {"email": "0", "first_name": "1", "last_name": "2"})
    assert answer.url == reverse("admin:crm_importbatch_change", args=[batch.pk])
    waiting = client.get(answer.url).content.decode()
    assert 'http-equiv="refresh"' in waiting
    # No inline script: the page must work under a Content-Security-Policy without one.
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", waiting))

    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=["imports"], shutdown_timeout=30
    ):
        batch = wait_for_batch(batch, statuses={"completed", "failed"})
    done = client.get(answer.url).content.decode()
    assert batch.status == "completed"
    assert 'http-equiv="refresh"' not in done
    assert "50 / 50: 43 created, 1 merged, 6 rejected" in done
    assert Contact.objects.get(email="person0@example.org").last_name == "Jansen"
    assert Contact.objects.get(email="person0@example.org").first_name == "Known"

    report = client.get(reverse("admin:crm_importbatch_report", args=[batch.pk]))
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,reason,message,Email,Voornaam,Achternaam"
    assert len(lines) == 1 + 6

    # The next list of the same client starts from the columns chosen this time.
    answer = client.post(
        reverse("admin:crm_importbatch_add"),
        {
            "file": SimpleUploadedFile("more.csv", b"Naam;Email\nAnna;anna@example.org\n"),
            "source_kind": "client_list",
            "client": tulip.pk,
            "legal_basis": "consent",
            "attestation": "Same fair.",
            "collected_on": "2026-03-01",
        },
    )
    assert re.search(r'<option value="1" selected>Email</option>', client.get(answer.url).text)


def big_batch(rows: int) -> ImportBatch:
    return create_batch(
        upload=ContentFile(list_file(rows), name="big.csv"),
        file_name="big.csv",
        client=ClientFactory(name="Tulip Events"),
        source_kind="client_list",
        list_name="Spring fair",
        attestation=Attestation("consent", "Ticked the box.", date(2026, 3, 1)),
        mapping={"email": 0, "first_name": 1, "last_name": 2},
        actor=None,
        channel="test",
    )


def start_killable_worker(settings) -> subprocess.Popen:
    """Start a Celery worker in a process of its own, reading the file 20 rows at a time."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "PRIVATE_FILES_DIR": str(settings.PRIVATE_FILES_DIR),
        "IMPORT_CHUNK_ROWS": "20",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--queues",
            "imports",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def resume_to_the_end(batch: ImportBatch, rows: int) -> None:
    """Resume the batch on a worker and check it ends exactly as an uninterrupted run."""
    resume_batch(batch=batch, actor=None, channel="test")
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=["imports"], shutdown_timeout=30
    ):
        batch = wait_for_batch(batch, statuses={"completed", "failed"})
    invalid, repeated = rows // 25, rows // 10 - rows // 50
    assert (batch.status, batch.total_rows) == ("completed", rows)
    assert (batch.created, batch.merged) == (rows - invalid - repeated, 0)
    assert batch.rejected_by_reason == {"invalid_email": invalid, "duplicate": repeated}
    assert Contact.objects.count() == rows - invalid - repeated
    assert ContactSource.objects.count() == rows - invalid - repeated
    assert ImportRejection.objects.count() == invalid + repeated
    assert not ImportRejection.objects.filter(reason="duplicate", cells=[]).exists()


KILLED_WORKER = pytest.mark.skipif(
    not POSTGRESQL,
    reason="the killed worker runs in another process, which cannot open SQLite's in-memory "
    "test database; CI's PostgreSQL run covers it",
)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@KILLED_WORKER
def test_an_import_whose_worker_is_killed_while_reading_resumes_to_the_same_result(settings):
    settings.IMPORT_STALE_SECONDS = 0
    rows = 3000
    batch = big_batch(rows)
    worker = start_killable_worker(settings)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            batch.refresh_from_db()
            if batch.rows_read > 0:
                break
            time.sleep(0.02)
    finally:
        kill(worker)
    batch.refresh_from_db()
    assert (batch.status, batch.step, batch.rows_done) == ("running", "staging", 0)
    assert 0 < batch.rows_read < rows, "the worker was to be killed half-way through the file"
    resume_to_the_end(batch, rows)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@KILLED_WORKER
def test_an_import_whose_worker_is_killed_in_the_middle_of_its_merge_resumes_to_the_same_result(
    settings,
):
    settings.IMPORT_STALE_SECONDS = 0
    rows = 3000
    batch = big_batch(rows)
    blocker = connection.copy()
    blocker.connect()
    try:
        with blocker.cursor() as cursor:
            # Held by another session: the merge writes contacts and provenance, then waits here.
            cursor.execute("BEGIN; LOCK TABLE crm_importrejection IN SHARE MODE")
            worker = start_killable_worker(settings)
            try:
                waiting = None
                deadline = time.monotonic() + 120
                while waiting is None and time.monotonic() < deadline:
                    # Asked outside the locking transaction, which sees one snapshot of activity.
                    with connection.cursor() as watch:
                        watch.execute(
                            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE 'INSERT INTO crm_importrejection%%'"
                        )
                        waiting = (watch.fetchone() or [None])[0]
                    time.sleep(0.05)
                assert waiting is not None, "the merge never reached the rejected rows"
            finally:
                kill(worker)
            # The worker's session dies with it: its transaction is rolled back.
            cursor.execute("SELECT pg_terminate_backend(%s)", [waiting])
            cursor.execute("ROLLBACK")
    finally:
        blocker.close()
    batch.refresh_from_db()
    assert (batch.status, batch.step, batch.rows_read, batch.rows_done) == (
        "running",
        "prepared",
        rows,
        0,
    )
    assert not Contact.objects.exists()
    assert not ContactSource.objects.exists()
    resume_to_the_end(batch, rows)
