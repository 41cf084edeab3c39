"""What this host can convert, in the shapes the API and pages show."""

from __future__ import annotations

from .engines.registry import default_registry
from .formats import CATEGORIES, category_of, conversion_type

TYPE_ORDER = ["image_to_image", "document_to_document", "audio_to_audio", "video_to_video", "complex"]


def supported_formats_report(registry=None) -> dict:
    pairs = (registry or default_registry()).supported_pairs()
    grouped: dict[str, list[str]] = {name: [] for name in TYPE_ORDER}
    for src, dst in pairs:
        grouped[conversion_type(src, dst)].append(f"{src}->{dst}")
    available_formats = {fmt for pair in pairs for fmt in pair}
    return {
        "supported_conversions": grouped,
        "format_categories": {cat: [f for f in fmts if f in available_formats]
                              for cat, fmts in CATEGORIES.items()},
        "targets": targets_by_source(pairs),
        "total_conversions": len(pairs),
    }


def targets_by_source(pairs=None) -> dict[str, list[str]]:
    pairs = pairs if pairs is not None else default_registry().supported_pairs()
    targets: dict[str, list[str]] = {}
    for src, dst in pairs:
        targets.setdefault(src, []).append(dst)
    order = [f for fmts in CATEGORIES.values() for f in fmts]
    return {src: sorted(dsts, key=order.index) for src, dsts in targets.items()}


def pair_is_supported(src: str, dst: str) -> bool:
    return default_registry().engine_for(src, dst) is not None


__all__ = ["category_of", "pair_is_supported", "supported_formats_report", "targets_by_source"]
