"""Quality levels: names, labels and price multipliers (engines keep their own per-level parameters).

Pure Python. The labels are Spanish source strings marked for translation (``_`` is a no-op
marker here so the module stays free of Django; callers translate with ``gettext``/``gettext_lazy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


def _(text: str) -> str:  # translation marker (picked up by makemessages)
    return text


@dataclass(frozen=True)
class QualityLevel:
    name: str
    label: str
    multiplier: Decimal


QUALITY_LEVELS: tuple[QualityLevel, ...] = (
    QualityLevel("basic", _("básica"), Decimal("1.0")),
    QualityLevel("standard", _("estándar"), Decimal("1.3")),
    QualityLevel("high", _("alta"), Decimal("1.8")),
    QualityLevel("premium", _("premium"), Decimal("2.5")),
)
QUALITY_NAMES: tuple[str, ...] = tuple(level.name for level in QUALITY_LEVELS)
DEFAULT_QUALITY = "standard"


def quality_multipliers() -> dict[str, Decimal]:
    return {level.name: level.multiplier for level in QUALITY_LEVELS}


def quality_choices() -> list[tuple[str, str]]:
    """(name, untranslated label) pairs; wrap the label in gettext_lazy where shown."""
    return [(level.name, level.label) for level in QUALITY_LEVELS]
