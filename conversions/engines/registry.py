"""Engine registry: which engine converts which (source, target) pair."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from .base import ConvertOptions, Engine, EngineError


def default_engines() -> list[Engine]:
    from .ffmpeg import FFmpegEngine
    from .libreoffice import LibreOfficeEngine
    from .pandoc import PandocEngine
    from .pillow import PillowEngine
    from .pymupdf import PyMuPDFEngine

    return [PillowEngine(), FFmpegEngine(), LibreOfficeEngine(), PandocEngine(),
            PyMuPDFEngine()]


class Registry:
    def __init__(self, engines: Iterable[Engine]) -> None:
        self.engines: list[Engine] = list(engines)

    def available(self) -> list[Engine]:
        return [e for e in self.engines if e.is_available()]

    def candidates(self, src: str, dst: str) -> list[Engine]:
        """Available engines supporting the pair, best (highest priority) first."""
        found = [e for e in self.available() if (src, dst) in e.pairs()]
        return sorted(found, key=lambda e: e.priority, reverse=True)

    def engine_for(self, src: str, dst: str) -> Engine | None:
        found = self.candidates(src, dst)
        return found[0] if found else None

    def get(self, name: str) -> Engine | None:
        return next((e for e in self.engines if e.name == name), None)

    def supported_pairs(self) -> dict[tuple[str, str], str]:
        result: dict[tuple[str, str], Engine] = {}
        for engine in self.available():
            for pair in engine.pairs():
                current = result.get(pair)
                if current is None or engine.priority > current.priority:
                    result[pair] = engine
        return {pair: engine.name for pair, engine in sorted(result.items())}

    def convert(self, src: Path, dst: Path, src_fmt: str, dst_fmt: str,
                options: ConvertOptions | None = None) -> str:
        """Convert with the best engine; returns the engine name used."""
        engine = self.engine_for(src_fmt, dst_fmt)
        if engine is None:
            raise EngineError("Conversión no soportada", code="unsupported_pair")
        engine.convert(Path(src), Path(dst), src_fmt, dst_fmt, options or ConvertOptions())
        return engine.name


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    return Registry(default_engines())


def engine_for(src: str, dst: str) -> Engine | None:
    return default_registry().engine_for(src, dst)


def supported_pairs() -> dict[tuple[str, str], str]:
    return default_registry().supported_pairs()
