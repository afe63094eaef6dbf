"""Fuzz the API from its own OpenAPI document: no generated request may cause a server error.

Schemathesis reads the OpenAPI document the application serves at `/api/schema/` (generated the
same way, from the code) and, through the real WSGI entry point in this process and database,
sends every operation a few requests generated from the schema, valid and not, with a staff
token. Any 5xx fails the test with the request that caused it. The number of examples per
operation is kept small so the run stays well under a minute.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The staff token's user is created once per operation: skip the slow password hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def _one_connection_per_test():
    """Keep the test's database connection open across the calls, as Django's test client does.

    The WSGI handler closes connections at the start and end of each request; inside the test's
    transaction that would close the very connection the test runs in (PostgreSQL).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Read at collection: the schema is generated from the code, without the database (the served
# one at /api/schema/ is for staff only, and no account exists before the tests run).
schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
)
schema.app = application


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@pytest.mark.django_db
@pytest.mark.usefixtures("_one_connection_per_test")
def test_no_generated_request_causes_a_server_error(case, staff_token):
    response = case.call(headers={"Authorization": f"Token {staff_token}"})
    case.validate_response(response, checks=[not_a_server_error])
