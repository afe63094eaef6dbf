import httpx
import pytest

from config.celery import app as celery_app


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_ok_when_database_and_broker_are_reachable(live_server):
    response = httpx.get(f"{live_server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_broker_when_it_is_down(client):
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url = previous
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unreachable"}


def test_home_page_links_to_the_public_privacy_pages(client):
    page = client.get("/")
    assert page.status_code == 200
    for path in ("/privacy/", "/subscribe/", "/privacy/requests/new/"):
        assert f'href="{path}"' in page.text
