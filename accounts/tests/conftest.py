import itertools

import pytest

from accounts import services

PASSWORD = "Secreta123!"
_counter = itertools.count()


@pytest.fixture
def make_user(db):
    def make(email=None, password=PASSWORD, **extra):
        email = email or f"user{next(_counter)}@example.com"
        return services.user_create(email=email, password=password, **extra)

    return make
