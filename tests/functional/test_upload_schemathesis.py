"""schemathesis against the app's own OpenAPI: no 5xx, no response that breaks the schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inmet_local.workspace.template import Provisioned
from upload_api.app import app

pytestmark = [pytest.mark.functional, pytest.mark.slow]

# The conformance checks. positive_data_acceptance is left out on purpose: a file field is
# "string/binary" in the schema, so every byte string is schema-valid, yet only real INMET
# station files are accepted (422 explains why) and no schema can express that grammar.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# From the app's own document (loading it over ASGI would run the start-up check before the
# test's settings exist).
schema = schemathesis.openapi.from_dict(app.openapi())


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_openapi(case: Any, aws: Provisioned) -> None:
    response = case.call(app=app)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    case.validate_response(response, checks=CHECKS)
