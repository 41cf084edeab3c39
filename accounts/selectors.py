from __future__ import annotations

from django.db.models import Count, Q

from .models import SubscriptionPlan, User, UserSubscription
from .plans import FREE_PLAN_SLUG


def plan_list():
    return SubscriptionPlan.objects.filter(is_active=True).order_by("sort_order")


def subscription_current(*, user: User) -> UserSubscription | None:
    return (
        UserSubscription.objects.select_related("plan")
        .filter(user=user, status=UserSubscription.Status.ACTIVE)
        .first()
    )


def plan_for_user(user: User | None) -> SubscriptionPlan:
    """The plan whose limits apply: the active subscription's, else Gratuito (anonymous too)."""
    if user is not None and user.is_authenticated:
        sub = subscription_current(user=user)
        if sub is not None:
            return sub.plan
    return SubscriptionPlan.objects.get(slug=FREE_PLAN_SLUG)


# --- e-mail verification (accounts/verification.py) -----------------------------------------
def user_email_verified(*, user) -> bool:
    """Whether the account's e-mail is verified, read from the database (the object may be stale).
    Only verified accounts earn rewards (gamification)."""
    if user is None or not getattr(user, "pk", None):
        return False
    return User.objects.filter(pk=user.pk, email_verified_at__isnull=False).exists()


def verified_users_q(*, prefix: str = "") -> Q:
    """Filter for querysets of users (prefix "" ) or of rows pointing at one (prefix "user__")."""
    return Q(**{f"{prefix}email_verified_at__isnull": False})


# --- back office (backoffice/stats.py) ----------------------------------------------
def user_counts(*, active_since, also_active_ids=None) -> dict:
    """Every account, and those active since a moment: signed in since then, or whose id is in
    ``also_active_ids`` (a queryset of user ids other apps saw active, e.g. who converted)."""
    active = Q(last_login__gte=active_since)
    if also_active_ids is not None:
        active |= Q(pk__in=also_active_ids)
    return User.objects.aggregate(total=Count("pk"), active=Count("pk", filter=active))


def user_emails_by_id(*, user_ids) -> dict[str, str]:
    """{str(id): email} of the accounts that still exist among these ids."""
    ids = [user_id for user_id in user_ids if user_id]
    return {str(pk): email for pk, email in User.objects.filter(pk__in=ids).values_list("pk", "email")} if ids \
        else {}
