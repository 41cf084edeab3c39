import itertools

import pytest

from accounts import services as account_services
from accounts.tests.factories import verified
from conversions.tests.conftest import no_worker  # noqa: F401 (shared fixture)

PASSWORD = "Secreta123!"
_n = itertools.count()


@pytest.fixture
def make_user(db):
    def make(**extra):
        return verified(account_services.user_create(email=f"keys{next(_n)}@example.com", password=PASSWORD,
                                                     **extra))

    return make


@pytest.fixture
def make_key(db):
    """make_key(user, scopes=[...], **kw) -> the full key string."""
    from apikeys import services

    def make(user, scopes=("convert", "read", "billing"), **extra):
        return services.api_key_create(user=user, name=extra.pop("name", "ci"), scopes=list(scopes), **extra).key

    return make


def key_client(key: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client
