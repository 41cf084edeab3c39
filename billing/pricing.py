"""The price of one conversion (the seed's model). Pure: no Django, no database.

price = base(conversion type) × size multiplier × quality multiplier × server-load factor
        + feature costs, in Decimal, rounded half-up to cents only at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from conversions.catalog import conversion_type, quality_multipliers

CENT = Decimal("0.01")
CURRENCY = "EUR"

BASE_PRICES: dict[str, Decimal] = {
    "image_to_image": Decimal("0.05"),
    "document_to_document": Decimal("0.10"),
    "audio_to_audio": Decimal("0.15"),
    "video_to_video": Decimal("0.25"),
    "complex": Decimal("0.40"),
}

# (name, inclusive upper bound in MB or None for "above the last", multiplier)
SIZE_TIERS: list[tuple[str, Decimal | None, Decimal]] = [
    ("small", Decimal("10"), Decimal("1.0")),
    ("medium", Decimal("50"), Decimal("1.5")),
    ("large", Decimal("100"), Decimal("2.0")),
    ("xlarge", Decimal("500"), Decimal("3.0")),
    ("xxl", None, Decimal("4.0")),
]

# The catalogue's quality levels and their multipliers (conversions/catalog/quality.py).
QUALITY_MULTIPLIERS: dict[str, Decimal] = quality_multipliers()

# Extra costs per conversion. Batch processing is free (the seed's example charges 0.0 for it);
# priority processing (the priority queue) costs 0.10 EUR.
FEATURE_COSTS: dict[str, Decimal] = {
    "batch_processing": Decimal("0.00"),
    "priority": Decimal("0.10"),
}

# Server-load factor by the queue's label (the same label as GET /api/conversion/queue/status).
LOAD_FACTORS: dict[str, Decimal] = {
    "low": Decimal("1.0"),
    "medium": Decimal("1.1"),
    "high": Decimal("1.25"),
}


@dataclass(frozen=True)
class PriceBreakdown:
    conversion_type: str
    base_price: Decimal
    size_category: str
    size_multiplier: Decimal
    quality: str
    quality_multiplier: Decimal
    feature_cost: Decimal
    server_load: str
    server_load_factor: Decimal
    total_price: Decimal


def size_category(file_size_mb: Decimal) -> tuple[str, Decimal]:
    """(category, multiplier): 10.0 MB is small, 10.01 MB medium."""
    size = Decimal(file_size_mb)
    for name, upper, multiplier in SIZE_TIERS:
        if upper is None or size <= upper:
            return name, multiplier
    raise AssertionError("unreachable")  # pragma: no cover


def size_rank(category: str) -> int:
    return [name for name, _, _ in SIZE_TIERS].index(category)


def quantize(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def price(
    *,
    source_format: str,
    target_format: str,
    file_size_mb: Decimal,
    quality: str,
    features: list[str] | tuple[str, ...] = (),
    server_load: str = "low",
) -> PriceBreakdown:
    """The price of one conversion; raises KeyError/ValueError on unknown inputs (validate first)."""
    kind = conversion_type(source_format, target_format)
    base = BASE_PRICES[kind]
    if Decimal(file_size_mb) < 0:
        raise ValueError("negative size")
    size_name, size_mult = size_category(Decimal(file_size_mb))
    quality_mult = QUALITY_MULTIPLIERS[quality]
    load_factor = LOAD_FACTORS[server_load]
    feature_cost = sum((FEATURE_COSTS[name] for name in dict.fromkeys(features)), Decimal("0"))
    total = quantize(base * size_mult * quality_mult * load_factor + feature_cost)
    return PriceBreakdown(
        conversion_type=kind, base_price=base, size_category=size_name, size_multiplier=size_mult,
        quality=quality, quality_multiplier=quality_mult, feature_cost=quantize(feature_cost),
        server_load=server_load, server_load_factor=load_factor, total_price=total,
    )


def tiers() -> dict:
    """Everything that goes into a price (GET pricing-tiers)."""
    return {
        "base_prices": dict(BASE_PRICES),
        "size_tiers": {name: {"max_size_mb": upper, "price_multiplier": mult} for name, upper, mult in SIZE_TIERS},
        "quality_options": dict(QUALITY_MULTIPLIERS),
        "feature_costs": dict(FEATURE_COSTS),
        "server_load_factors": dict(LOAD_FACTORS),
        "currency": CURRENCY,
    }


def to_cents(amount: Decimal) -> int:
    return int((quantize(amount) * 100).to_integral_value())
