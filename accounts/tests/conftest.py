import itertools

import pytest

from accounts import services
from accounts.tests.factories import verified as verified_user

PASSWORD = "Secreta123!"
_counter = itertools.count()


@pytest.fixture
def make_user(db):
    def make(email=None, password=PASSWORD, verified=True, **extra):
        """Through the real sign-up service (unverified); verified=True then marks the e-mail verified."""
        email = email or f"user{next(_counter)}@example.com"
        user = services.user_create(email=email, password=password, **extra)
        return verified_user(user) if verified else user

    return make
