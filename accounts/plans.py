"""The seeded subscription plans (PRODUCT.md). Used by the data migration and `seed`."""

from decimal import Decimal

FREE_PLAN_SLUG = "gratuito"

PLAN_DEFINITIONS = [
    {"slug": "gratuito", "name": "Gratuito", "retention_hours": 24, "monthly_conversions": 5,
     "max_file_size_mb": 50, "priority_queue": False, "price_eur": Decimal("0.00"), "sort_order": 1},
    {"slug": "basico", "name": "Básico", "retention_hours": 7 * 24, "monthly_conversions": 50,
     "max_file_size_mb": 200, "priority_queue": False, "price_eur": Decimal("4.99"), "sort_order": 2},
    {"slug": "pro", "name": "Pro", "retention_hours": 30 * 24, "monthly_conversions": None,
     "max_file_size_mb": 500, "priority_queue": False, "price_eur": Decimal("14.99"),
     "sort_order": 3},
    {"slug": "enterprise", "name": "Enterprise", "retention_hours": 90 * 24,
     "monthly_conversions": None, "max_file_size_mb": 2048, "priority_queue": True,
     "price_eur": Decimal("49.99"), "sort_order": 4},
]

# Anonymous sessions get the free plan's limits.
ANONYMOUS_LIMITS = PLAN_DEFINITIONS[0]
