"""Generated API tests from our own OpenAPI schema: no 5xx, responses match the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from anclora.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# tus PATCH bodies (uploads/) are raw bytes under their own media type.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

# Operations that need real files, Stripe signatures or side effects beyond one request are covered
# by their own tests; everything else is fuzzed here.
EXCLUDED = r"/conversion/convert$|/payments/webhook$|/auth/logout$|/users/me$"


@pytest.fixture
def token(db):
    from accounts import services

    user = services.user_create(email="fuzz@example.com", password="Secreta123!x")
    return services.tokens_for_user(user)["access_token"]


@pytest.fixture
def call(token, django_capture_on_commit_callbacks):
    """call(case, checks): one generated request as its own committed unit of work, rolled back afterwards.

    The test runs in one transaction (no flush per operation); each example gets a savepoint, its
    after-commit work runs as a commit would run it, and the savepoint is rolled back so examples do
    not see each other's rows."""

    def run(case, checks):
        with transaction.atomic():
            with django_capture_on_commit_callbacks(execute=True):
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)
            transaction.set_rollback(True)

    # The WSGI handler would close the test's connection after each request (Django's test client
    # disconnects this too).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield run
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.exclude(path_regex=EXCLUDED).parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_api_never_5xx_and_matches_its_schema(case, call):
    call(case, [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance])


# --- negative data: schema-violating bodies, parameters and types -------------------------------
# A second copy of the schema that generates only data the schema forbids (wrong types, values out of
# the documented bounds, strings over maxLength, missing required fields), with more examples per
# operation. Every operation is included, the multipart upload and the Stripe webhook too: bad input
# must be a 4xx JSON error there as well. Only deleting the caller's own account is left out.
negative_schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
negative_schema.config.generation.update(modes=[GenerationMode.NEGATIVE])
NEGATIVE_EXAMPLES = 60


@schemathesis.check
def error_in_the_api_shape(ctx, response, case):
    """Every 4xx/5xx under /api/ is JSON {"error", "code", "details"} (API.md "Errors")."""
    if response.status_code < 400:
        return None
    body = response.json()
    if not isinstance(body, dict) or set(body) != {"error", "code", "details"}:
        raise AssertionError(f"{response.status_code} is not the API error shape: {response.text[:200]}")
    return None


@negative_schema.exclude(method="DELETE", path="/api/users/me").parametrize()
@settings(max_examples=NEGATIVE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_api_refuses_schema_violating_input_without_5xx(case, call):
    call(case, [schemathesis.checks.not_a_server_error, error_in_the_api_shape])
