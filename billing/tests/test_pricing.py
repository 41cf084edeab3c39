from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import pricing


def p(src, dst, size, quality="standard", load="low", features=()):
    return pricing.price(source_format=src, target_format=dst, file_size_mb=Decimal(str(size)), quality=quality,
                         server_load=load, features=features)


def test_seed_examples():
    assert p("jpg", "png", 5).total_price == Decimal("0.07")  # 0.065 -> 0.07 half-up
    assert p("pdf", "docx", 15, "high").total_price == Decimal("0.27")
    assert p("pdf", "docx", 15, "high", load="medium").total_price == Decimal("0.30")
    assert p("jpg", "png", 5, features=["batch_processing"]).total_price == Decimal("0.07")


@pytest.mark.parametrize(("size", "category", "mult"), [
    ("0.001", "small", "1.0"), ("10", "small", "1.0"), ("10.0", "small", "1.0"), ("10.01", "medium", "1.5"),
    ("50", "medium", "1.5"), ("50.01", "large", "2.0"), ("100", "large", "2.0"), ("100.01", "xlarge", "3.0"),
    ("500", "xlarge", "3.0"), ("500.01", "xxl", "4.0"), ("2048", "xxl", "4.0"),
])
def test_size_tier_boundaries(size, category, mult):
    breakdown = p("jpg", "png", size, "basic")
    assert breakdown.size_category == category
    assert breakdown.size_multiplier == Decimal(mult)


@pytest.mark.parametrize(("src", "dst", "kind", "base"), [
    ("jpg", "png", "image_to_image", "0.05"), ("docx", "pdf", "document_to_document", "0.10"),
    ("wav", "mp3", "audio_to_audio", "0.15"), ("mp4", "avi", "video_to_video", "0.25"),
    ("mp4", "mp3", "complex", "0.40"), ("png", "pdf", "complex", "0.40"),
])
def test_base_prices(src, dst, kind, base):
    breakdown = p(src, dst, 1, "basic")
    assert (breakdown.conversion_type, breakdown.base_price, breakdown.total_price) == (kind, Decimal(base),
                                                                                         Decimal(base))


@pytest.mark.parametrize(("quality", "mult"), [("basic", "1.0"), ("standard", "1.3"), ("high", "1.8"),
                                               ("premium", "2.5")])
def test_quality_multipliers(quality, mult):
    assert p("mp4", "mp3", 1, quality).quality_multiplier == Decimal(mult)


def test_load_factor_is_exactly_one_when_low_and_priority_feature_costs():
    assert pricing.LOAD_FACTORS["low"] == Decimal("1.0")
    assert p("mp4", "avi", 600, "premium", load="high").total_price == Decimal("3.13")  # 0.25*4*2.5*1.25=3.125
    assert p("jpg", "png", 5, features=["priority"]).total_price == Decimal("0.17")


def test_unknown_inputs_raise():
    with pytest.raises(KeyError):
        p("jpg", "png", 1, "ultra")
    with pytest.raises(ValueError):
        p("jpg", "png", -1)


FORMAT_PAIRS = [("jpg", "png"), ("pdf", "docx"), ("wav", "mp3"), ("mp4", "avi"), ("mp4", "mp3")]
QUALITIES = list(pricing.QUALITY_MULTIPLIERS)
sizes = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2048"), places=2)


@settings(max_examples=300, deadline=None)
@given(pair=st.sampled_from(FORMAT_PAIRS), a=sizes, b=sizes, quality=st.sampled_from(QUALITIES),
       load=st.sampled_from(list(pricing.LOAD_FACTORS)))
def test_monotone_in_size(pair, a, b, quality, load):
    small, large = sorted([a, b])
    low = p(*pair, small, quality, load).total_price
    high = p(*pair, large, quality, load).total_price
    assert low <= high
    assert low.as_tuple().exponent == -2 and high.as_tuple().exponent == -2


@settings(max_examples=300, deadline=None)
@given(pair=st.sampled_from(FORMAT_PAIRS), size=sizes, q1=st.sampled_from(QUALITIES), q2=st.sampled_from(QUALITIES))
def test_monotone_in_quality(pair, size, q1, q2):
    lo, hi = sorted([q1, q2], key=QUALITIES.index)
    assert p(*pair, size, lo).total_price <= p(*pair, size, hi).total_price
    assert isinstance(p(*pair, size, hi).total_price, Decimal)


@settings(max_examples=200, deadline=None)
@given(pair=st.sampled_from(FORMAT_PAIRS), size=sizes, quality=st.sampled_from(QUALITIES))
def test_monotone_in_load(pair, size, quality):
    prices = [p(*pair, size, quality, load).total_price for load in ("low", "medium", "high")]
    assert prices == sorted(prices)
