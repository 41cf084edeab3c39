"""Which pairs this host converts, with which engine and options: the one answer to "is it supported?".

The engines (through the registry) say which pairs they convert; the catalogue keeps only pairs of
known formats whose target can be produced, and adds each pair's option schema.
"""

from __future__ import annotations

from ..engines import registry as engine_registry
from ..engines.registry import Registry
from . import formats as fmt
from . import options as opts
from .quality import QUALITY_LEVELS

TYPE_ORDER = ["image_to_image", "document_to_document", "audio_to_audio", "video_to_video", "complex"]
_ORDER = {name: index for index, name in enumerate(fmt.ALL_FORMATS)}


def _registry(registry: Registry | None) -> Registry:
    return registry or engine_registry.default_registry()


def _catalogued(src: str, dst: str) -> bool:
    return src != dst and src in fmt.BY_NAME and fmt.is_output(dst)


def supported_pairs(registry: Registry | None = None) -> dict[tuple[str, str], str]:
    """(source, target) -> name of the engine that serves it, for every pair this host converts."""
    return {pair: name for pair, name in _registry(registry).supported_pairs().items() if _catalogued(*pair)}


def pair_supported(src: str | None, dst: str | None, registry: Registry | None = None) -> bool:
    src, dst = fmt.canonical(src), fmt.canonical(dst)
    return bool(src and dst) and (src, dst) in supported_pairs(registry)


def engine_name_for(src: str, dst: str, registry: Registry | None = None) -> str | None:
    return supported_pairs(registry).get((src, dst))


def options_for(src: str, dst: str, registry: Registry | None = None) -> opts.PairOptions | None:
    """The option schema of a pair (codec choices from the serving engine's encoders)."""
    engine = _registry(registry).engine_for(src, dst)
    codecs = engine.option_choices("codec", dst) if engine is not None else None
    return opts.pair_options(src, dst, codecs)


def validate_options(src: str, dst: str, raw: dict | None, registry: Registry | None = None) -> dict:
    """Checked options of a pair (raises ``options.OptionError`` naming the bad one)."""
    return opts.validate(options_for(src, dst, registry), raw)


def validate_options_for_target(dst: str, raw: dict | None, registry: Registry | None = None) -> dict:
    """Options asked before the source is known (a URL import, a finished S3 upload): accepted when the
    schema of some pair this host converts to ``dst`` takes them (returns them checked against the first
    such schema); raises ``options.OptionError`` naming the bad option otherwise. The pair's own check
    follows once the content says what the source is."""
    raw = dict(raw or {})
    if not raw:
        return {}
    candidates: dict[str, opts.PairOptions] = {}
    for src, target in supported_pairs(registry):
        if target == dst:
            pair_opts = options_for(src, dst, registry)
            if pair_opts is not None:
                candidates.setdefault(pair_opts.key, pair_opts)
    errors: list[tuple[opts.PairOptions, opts.OptionError]] = []
    for pair_opts in sorted(candidates.values(), key=lambda p: p.key):
        try:
            return opts.validate(pair_opts, raw)
        except opts.OptionError as exc:
            errors.append((pair_opts, exc))
    # The most telling refusal: a bad value of an option some pair takes, before an unknown option.
    for pair_opts, exc in errors:
        if exc.name in {option.name for option in pair_opts.options()}:
            raise exc
    if errors:
        raise errors[0][1]
    return opts.validate(None, raw)  # no pair to dst takes options: names the first one


def targets_by_source(pairs=None) -> dict[str, list[str]]:
    pairs = pairs if pairs is not None else supported_pairs()
    targets: dict[str, list[str]] = {}
    for src, dst in pairs:
        targets.setdefault(src, []).append(dst)
    return {src: sorted(dsts, key=_ORDER.__getitem__) for src, dsts in
            sorted(targets.items(), key=lambda item: _ORDER[item[0]])}


def missing_engines(registry: Registry | None = None) -> list[dict]:
    """Configured engines not installed here, then optional codec packages an installed engine lacks
    (e.g. pillow-jxl-plugin), and the formats/pairs each would add (``kind``: "engine" or "codec")."""
    registry = _registry(registry)
    have = supported_pairs(registry)
    have_formats = {f for pair in have for f in pair}

    def entry(name: str, kind: str, would: set) -> dict:
        new_formats = {f for pair in would for f in pair} - have_formats
        return {"engine": name, "kind": kind, "formats": sorted(new_formats, key=_ORDER.__getitem__),
                "pairs": len(would)}

    result = []
    for engine in registry.missing():
        try:
            would = {pair for pair in engine.pairs() if _catalogued(*pair)} - set(have)
        except Exception:  # noqa: BLE001 - a missing engine's own probe may fail; report what we can
            would = set()
        result.append(entry(engine.name, "engine", would))
    codecs: dict[str, set] = {}
    for engine in registry.available():
        for package, pairs in engine.missing_codecs().items():
            codecs.setdefault(package, set()).update(pair for pair in pairs if _catalogued(*pair))
    for package, pairs in sorted(codecs.items()):
        would = pairs - set(have)
        if would:
            result.append(entry(package, "codec", would))
    return result


def supported_formats_report(registry: Registry | None = None) -> dict:
    """The formats endpoint's body: the seed's shape plus engines, option schemas and what is missing."""
    registry = _registry(registry)
    pairs = supported_pairs(registry)
    grouped: dict[str, list[str]] = {name: [] for name in TYPE_ORDER}
    details: dict[str, dict] = {}
    schemas: dict[str, dict] = {}
    for (src, dst), engine in pairs.items():
        key = f"{src}->{dst}"
        grouped[fmt.conversion_type(src, dst)].append(key)
        pair_opts = options_for(src, dst, registry)
        if pair_opts is not None and pair_opts.key not in schemas:
            schemas[pair_opts.key] = pair_opts.json_schema()
        details[key] = {"engine": engine, "options": pair_opts.key if pair_opts else None}
    available = {f for pair in pairs for f in pair}
    return {
        "supported_conversions": grouped,
        "format_categories": {family: [f for f in names if f in available]
                              for family, names in fmt.CATEGORIES.items()},
        "targets": targets_by_source(pairs),
        "total_conversions": len(pairs),
        "pairs": details,
        "option_schemas": schemas,
        "formats": {
            f.name: {"family": f.family, "category": f.category, "mime_types": list(f.mime),
                     "extension": f.extension, "aliases": list(f.aliases), "output": f.output}
            for f in fmt.FORMATS if f.name in available
        },
        "quality_levels": [{"name": q.name, "label": q.label, "multiplier": str(q.multiplier)}
                           for q in QUALITY_LEVELS],
        "missing": missing_engines(registry),
    }


def summary_lines(registry: Registry | None = None) -> list[str]:
    """A short text version of the report (printed by ``make run`` at start)."""
    report = supported_formats_report(registry)
    engines: dict[str, int] = {}
    for detail in report["pairs"].values():
        engines[detail["engine"]] = engines.get(detail["engine"], 0) + 1
    formats = sum(len(v) for v in report["format_categories"].values())
    lines = [f"Formats: {formats}, pairs: {report['total_conversions']} "
             f"({', '.join(f'{name} {count}' for name, count in sorted(engines.items()))})"]
    for missing in report["missing"]:
        what = ", ".join(missing["formats"]) or f"{missing['pairs']} pairs"
        lines.append(f"Missing {missing.get('kind', 'engine')} {missing['engine']}: would add {what}")
    return lines
