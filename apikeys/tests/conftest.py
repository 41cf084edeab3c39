import pytest


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
