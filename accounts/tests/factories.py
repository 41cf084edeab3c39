import factory
from django.utils import timezone

from accounts.models import User

PASSWORD = "Secreta123!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ana"
    # verified by default (rewards need it); UserFactory(email_verified_at=None) for a new, unverified one
    email_verified_at = factory.LazyFunction(timezone.now)
    last_name = "García"

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):  # noqa: N805
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save()


def give_credits(user: User, credits: int) -> int:
    """Credits granted by staff, through the one writer (so the ledger has the row)."""
    import uuid

    from accounts.credits import CreditReason, credits_grant

    return credits_grant(user=user, credits=credits, reason=CreditReason.ADMIN_GRANT, idempotency_key=uuid.uuid4().hex)


def verified(user: User) -> User:
    """Mark the account's e-mail verified (tests that are not about verification: rewards need it)."""
    User.objects.filter(pk=user.pk).update(email_verified_at=timezone.now())
    user.refresh_from_db(fields=["email_verified_at"])
    return user
