"""Fuzz the API from its own OpenAPI document: no generated request may cause a server error.

Schemathesis reads `/api/schema/` from the real application (through its WSGI entry point, in this
process and database) and sends every operation a few requests generated from the schema, valid
and not, with a staff token. Any 5xx fails the test with the request that caused it. The number of
examples per operation is kept small so the run stays well under a minute.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application

# Read at collection: the schema is generated from the code, without the database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@pytest.mark.django_db
def test_no_generated_request_causes_a_server_error(case, staff_token):
    response = case.call(headers={"Authorization": f"Token {staff_token}"})
    case.validate_response(response, checks=[not_a_server_error])
