from __future__ import annotations

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
