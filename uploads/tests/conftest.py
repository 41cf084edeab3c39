import itertools

import pytest

from accounts import services as account_services

_n = itertools.count()


@pytest.fixture
def make_user(db):
    def make(**extra):
        from accounts.tests.factories import verified as verified_user

        user = account_services.user_create(email=f"upl{next(_n)}@example.com", password="Secreta123!", **extra)
        return verified_user(user)

    return make
