from decimal import Decimal

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from accounts.models import SubscriptionPlan

pytestmark = pytest.mark.django_db


def test_plans_seeded_by_migration_with_product_numbers():
    plans = {p.slug: p for p in SubscriptionPlan.objects.all()}
    assert list(plans) == ["gratuito", "basico", "pro", "enterprise"]
    assert (plans["gratuito"].retention_hours, plans["gratuito"].monthly_conversions,
            plans["gratuito"].max_file_size_mb, plans["gratuito"].price_eur) == (24, 5, 50, Decimal("0"))
    assert (plans["basico"].retention_hours, plans["basico"].monthly_conversions,
            plans["basico"].max_file_size_mb, plans["basico"].price_eur) == (168, 50, 200,
                                                                              Decimal("4.99"))
    assert plans["pro"].monthly_conversions is None and plans["pro"].price_eur == Decimal("14.99")
    assert plans["enterprise"].priority_queue and plans["enterprise"].retention_hours == 90 * 24
    assert plans["enterprise"].max_file_size_mb == 2048


def test_seed_command_is_idempotent():
    SubscriptionPlan.objects.filter(slug="pro").delete()
    call_command("seed")
    call_command("seed")
    assert SubscriptionPlan.objects.filter(slug="pro").count() == 1
    assert PeriodicTask.objects.filter(name="flush-expired-jwt").count() == 1
