from celery import shared_task

from . import services


@shared_task(name="billing.tasks.subscription_periods_roll_task")
def subscription_periods_roll_task() -> int:
    """Daily: roll ended periods forward (the allowance resets) or end plans cancelled at period end."""
    return services.subscription_periods_roll()
