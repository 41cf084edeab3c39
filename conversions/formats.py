"""Former home of the format table: it now lives in the catalogue (``conversions.catalog``).

Kept as a re-export so existing imports keep working; new code imports ``conversions.catalog``.
"""

from .catalog.formats import (  # noqa: F401
    ALIASES,
    ALL_FORMATS,
    CATEGORIES,
    CONTENT_TYPES,
    EXTENSIONS,
    FAMILIES,
    canonical,
    category_of,
    conversion_type,
    family_of,
    formats_in,
    is_output,
)
