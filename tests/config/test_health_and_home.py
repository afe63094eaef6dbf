import httpx
import pytest

from config.celery import app as celery_app


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_ok_when_database_and_broker_are_reachable(live_server):
    response = httpx.get(f"{live_server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_broker_when_redis_is_down(client):
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    celery_app.conf.broker_transport = None
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_transport = previous
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unreachable"}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_embedded_broker_folder_is_gone(client, tmp_path):
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport
    options = celery_app.conf.broker_transport_options
    celery_app.conf.broker_url = "filesystem://"
    celery_app.conf.broker_transport = "config.filesystem_broker:Transport"
    missing = str(tmp_path / "gone")
    celery_app.conf.broker_transport_options = {
        "data_folder_in": missing,
        "data_folder_out": missing,
    }
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_transport = previous
        celery_app.conf.broker_transport_options = options
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unreachable"


def test_home_page_links_to_the_public_privacy_pages(client):
    page = client.get("/")
    assert page.status_code == 200
    for path in ("/privacy/", "/subscribe/", "/privacy/requests/new/"):
        assert f'href="{path}"' in page.text
