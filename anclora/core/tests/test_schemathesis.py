"""Generated API tests from our own OpenAPI schema: no 5xx, responses match the schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from anclora.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# Operations that need real files, Stripe signatures or side effects beyond one request are covered
# by their own tests; everything else is fuzzed here.
EXCLUDED = r"/conversion/convert$|/payments/webhook$|/auth/logout$|/users/me$"


@pytest.fixture
def token(transactional_db):
    from accounts import services

    user = services.user_create(email="fuzz@example.com", password="Secreta123!x")
    return services.tokens_for_user(user)["access_token"]


@schema.exclude(path_regex=EXCLUDED).parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db(transaction=True)
def test_api_never_5xx_and_matches_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                           checks=[schemathesis.checks.not_a_server_error,
                                   schemathesis.checks.response_schema_conformance])
