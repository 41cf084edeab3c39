import io

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


def test_createsuperuser_shares_password_policy(monkeypatch):
    """The real `createsuperuser` (as typed at a terminal) refuses a password the sign-up would refuse,
    says why, and asks again; the account gets only the accepted password."""
    import builtins
    import io

    from django.contrib.auth.management.commands import createsuperuser
    from django.core.management import call_command

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    typed = iter(["password1", "password1", "Fuerte#Clave2024", "Fuerte#Clave2024"])
    monkeypatch.setattr(createsuperuser.getpass, "getpass", lambda prompt="": next(typed))
    answers = []
    monkeypatch.setattr(builtins, "input", lambda prompt="": answers.append(prompt) or "n")  # no bypass
    stderr = io.StringIO()
    call_command("createsuperuser", email="raiz@example.com", interactive=True, stdin=Terminal(),
                 stdout=io.StringIO(), stderr=stderr)

    assert stderr.getvalue().strip(), "the weak password was accepted without a word"
    assert len(answers) == 1 and "Bypass password validation" in answers[0]
    admin = User.objects.get(email="raiz@example.com")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("Fuerte#Clave2024") and not admin.check_password("password1")


def test_createsuperuser_noinput_refuses_a_weak_password(monkeypatch):
    """`createsuperuser --noinput` with DJANGO_SUPERUSER_PASSWORD (Django skips validators there) refuses
    the password the sign-up would refuse and creates nobody; a strong one is stored."""
    from django.core.management import CommandError, call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "password1")
    with pytest.raises(CommandError):
        call_command("createsuperuser", email="raiz@example.com", interactive=False, stdout=io.StringIO())
    assert not User.objects.filter(email="raiz@example.com").exists()

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Fuerte#Clave2024")
    call_command("createsuperuser", email="raiz@example.com", interactive=False, stdout=io.StringIO())
    assert User.objects.get(email="raiz@example.com").check_password("Fuerte#Clave2024")
