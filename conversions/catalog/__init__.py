"""The catalogue: the one public source of formats, quality levels, supported pairs and per-pair options.

- ``formats``: every known format (canonical name, aliases, family, pricing category, MIME types).
- ``quality``: quality levels (names, labels, price multipliers).
- ``options``: per-pair option schemas and their validation.
- ``pairs``: what this host converts (from the engine registry), with engine and options per pair.

Pure Python (no Django). Adding a format: one entry in ``formats.FORMATS`` plus a mapping in the
engine that converts it.
"""

from .formats import (
    ALIASES,
    ALL_FORMATS,
    BY_NAME,
    CATEGORIES,
    CONTENT_TYPES,
    EXTENSIONS,
    FAMILIES,
    FORMATS,
    PRICING_CATEGORIES,
    Format,
    canonical,
    category_of,
    conversion_type,
    family_of,
    formats_in,
    is_output,
)
from .options import OptionError
from .pairs import (
    engine_name_for,
    missing_engines,
    options_for,
    pair_supported,
    summary_lines,
    supported_formats_report,
    supported_pairs,
    targets_by_source,
    validate_options,
    validate_options_for_target,
)
from .quality import DEFAULT_QUALITY, QUALITY_LEVELS, QUALITY_NAMES, QualityLevel, quality_choices, quality_multipliers

__all__ = [
    "ALIASES", "ALL_FORMATS", "BY_NAME", "CATEGORIES", "CONTENT_TYPES", "DEFAULT_QUALITY", "EXTENSIONS", "FAMILIES",
    "FORMATS", "PRICING_CATEGORIES", "QUALITY_LEVELS", "QUALITY_NAMES", "Format", "OptionError", "QualityLevel",
    "canonical", "category_of", "conversion_type", "engine_name_for", "family_of", "formats_in", "is_output",
    "missing_engines", "options_for", "pair_supported", "quality_choices", "quality_multipliers", "summary_lines",
    "supported_formats_report", "supported_pairs", "targets_by_source", "validate_options",
    "validate_options_for_target",
]
