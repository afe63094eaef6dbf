"""A real Celery worker (Redis in CI's second run, the file-system transport otherwise)."""

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from privacy.tasks import run_privacy_check
from tests.crm.factories import ContactFactory, ContactSourceFactory


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_privacy_check_runs_on_a_worker_and_reads_the_database():
    ContactFactory()
    ContactSourceFactory()
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["maintenance"],
        shutdown_timeout=30,
    ):
        report = run_privacy_check.delay().get(timeout=60)
    assert report["contacts_without_provenance"] == 1
    assert report["undeclared_models"] == {}
