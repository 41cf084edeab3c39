import pytest
from django.db import IntegrityError, transaction

from accounts import services
from accounts.models import User
from factories import give_credits

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["total_points", "lifetime_points", "conversion_credits",
                                   "current_streak", "longest_streak"])
def test_balances_cannot_go_negative(make_user, field):
    user = make_user()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(**{field: -1})


def test_email_unique_case_insensitive_in_database(make_user):
    make_user(email="ana@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="ANA@example.com")


def test_grant_credits_and_deactivate(make_user):
    user = make_user()
    give_credits(user, 3)
    give_credits(user, 2)
    assert User.objects.get(pk=user.pk).conversion_credits == 5
    services.user_deactivate(user=user)
    assert not User.objects.get(pk=user.pk).is_active


def test_adoption_publishes_event_once(make_user):
    from accounts.models import AnonymousSession
    from anclora.core import events

    seen = []

    def handler(session_id, user):
        seen.append((session_id, user.pk))

    events.subscribe("anonymous_session_adopted", handler)
    try:
        session = AnonymousSession.objects.create()
        user = make_user()
        assert services.anonymous_session_adopt(session_id=session.session_id, user=user)
        other = make_user()
        # a session adopted by someone else is not handed over again
        assert not services.anonymous_session_adopt(session_id=session.session_id, user=other)
        assert seen == [(session.session_id, user.pk)]
    finally:
        events._subscribers["anonymous_session_adopted"].remove(handler)


def test_createsuperuser_shares_password_policy():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("password1")
    validate_password("Secreta123!")
