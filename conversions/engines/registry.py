"""Engine registry: which engine converts which (source, target) pair, and fallback between them.

The engines are a list of dotted class paths (``settings.CONVERSION_ENGINES``, applied by
``conversions.apps``; ``DEFAULT_ENGINES`` otherwise). ``default_registry()`` is built lazily from
that list; ``configure()`` replaces the list and ``use()`` swaps in a prepared registry (tests).
Pure Python: no Django imports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .base import ConvertOptions, Engine, EngineError

logger = logging.getLogger(__name__)

DEFAULT_ENGINES: tuple[str, ...] = (
    "conversions.engines.pillow.PillowEngine",
    "conversions.engines.ffmpeg.FFmpegEngine",
    "conversions.engines.libreoffice.LibreOfficeEngine",
    "conversions.engines.pandoc.PandocEngine",
    "conversions.engines.pymupdf.PyMuPDFEngine",
    "conversions.engines.tabular.TabularEngine",
)

# Failures that say nothing about the input's safety or the time left: the next engine may
# still convert it (e.g. LibreOffice crashed on a document Pandoc reads). Timeouts, unsafe or
# too large inputs, oversized outputs and refusals are final.
FALLBACK_CODES = frozenset({"conversion_failed", "corrupt_input", "engine_unavailable", "engine_failed"})


def import_engine(path: str) -> Engine:
    """Instantiate the engine class at a dotted path ("package.module.Class")."""
    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise ValueError(f"not a dotted path: {path!r}")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Engine)):
        raise TypeError(f"{path} is not an Engine subclass")
    return cls()


def default_engines(paths: Iterable[str] | None = None) -> list[Engine]:
    """Fresh engine instances from dotted paths (the configured list by default)."""
    return [import_engine(path) for path in (_state.paths if paths is None else paths)]


class Registry:
    def __init__(self, engines: Iterable[Engine]) -> None:
        self.engines: list[Engine] = list(engines)
        self._pairs: dict[tuple[str, str], str] | None = None
        self._engine_pairs: dict[int, frozenset[tuple[str, str]]] = {}

    @classmethod
    def from_paths(cls, paths: Iterable[str]) -> Registry:
        return cls(default_engines(paths))

    def available(self) -> list[Engine]:
        return [e for e in self.engines if e.is_available()]

    def missing(self) -> list[Engine]:
        """Configured engines this host cannot run (binary or library not installed)."""
        return [e for e in self.engines if not e.is_available()]

    def candidates(self, src: str, dst: str) -> list[Engine]:
        """Available engines supporting the pair, best (highest priority) first."""
        found = [e for e in self.available() if (src, dst) in self.pairs_of(e)]
        return sorted(found, key=lambda e: e.priority, reverse=True)

    def pairs_of(self, engine: Engine) -> frozenset[tuple[str, str]]:
        """``engine.pairs()``, asked once per registry (some engines probe binaries to answer)."""
        if id(engine) not in self._engine_pairs:
            self._engine_pairs[id(engine)] = frozenset(engine.pairs())
        return self._engine_pairs[id(engine)]

    def engine_for(self, src: str, dst: str) -> Engine | None:
        found = self.candidates(src, dst)
        return found[0] if found else None

    def supports(self, src: str, dst: str) -> bool:
        return src != dst and self.engine_for(src, dst) is not None

    def get(self, name: str) -> Engine | None:
        return next((e for e in self.engines if e.name == name), None)

    def supported_pairs(self) -> dict[tuple[str, str], str]:
        """Every pair some available engine converts -> the name of the engine that serves it (kept)."""
        if self._pairs is not None:
            return dict(self._pairs)
        result: dict[tuple[str, str], Engine] = {}
        for engine in self.available():
            for pair in self.pairs_of(engine):
                current = result.get(pair)
                if current is None or engine.priority > current.priority:
                    result[pair] = engine
        self._pairs = {pair: engine.name for pair, engine in sorted(result.items())}
        return dict(self._pairs)

    def convert(self, src: Path, dst: Path, src_fmt: str, dst_fmt: str,
                options: ConvertOptions | None = None,
                on_attempt: Callable[[Engine], None] | None = None) -> str:
        """Convert with the best engine; if it fails with a fallback-able error, the next candidate
        tries within what is left of ``options.time_limit``. Returns the name of the engine used.

        ``on_attempt(engine)`` is called before each engine starts (e.g. to record it on the job).
        """
        options = options or ConvertOptions()
        candidates = self.candidates(src_fmt, dst_fmt)
        if not candidates:
            raise EngineError("Conversión no soportada en este servidor", code="unsupported_pair")
        src, dst = Path(src), Path(dst)
        deadline = time.monotonic() + options.time_limit
        for attempt, engine in enumerate(candidates):
            if on_attempt is not None:
                on_attempt(engine)
            dst.unlink(missing_ok=True)
            current = dataclasses.replace(options, time_limit=max(deadline - time.monotonic(), 0.001))
            try:
                engine.convert(src, dst, src_fmt, dst_fmt, current)
                return engine.name
            except EngineError as exc:
                last = attempt == len(candidates) - 1
                if last or exc.code not in FALLBACK_CODES or time.monotonic() >= deadline:
                    raise
                logger.info("%s->%s: %s failed (%s: %s); trying %s", src_fmt, dst_fmt, engine.name,
                            exc.code, exc.detail[:200], candidates[attempt + 1].name)
        raise AssertionError("unreachable")  # pragma: no cover


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paths: tuple[str, ...] = DEFAULT_ENGINES
        self.registry: Registry | None = None


_state = _State()


def configure(paths: Iterable[str] | None) -> None:
    """Use these engine classes (dotted paths) from now on; None restores DEFAULT_ENGINES."""
    with _state.lock:
        _state.paths = tuple(paths) if paths is not None else DEFAULT_ENGINES
        _state.registry = None


def reset() -> None:
    """Forget the built registry (engines are re-instantiated and re-probed on next use)."""
    with _state.lock:
        _state.registry = None


def default_registry() -> Registry:
    with _state.lock:
        if _state.registry is None:
            _state.registry = Registry.from_paths(_state.paths)
        return _state.registry


@contextlib.contextmanager
def use(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the default one inside the block (tests: simulate a missing engine)."""
    with _state.lock:
        previous = _state.registry
        _state.registry = registry
    try:
        yield registry
    finally:
        with _state.lock:
            _state.registry = previous


def engine_for(src: str, dst: str) -> Engine | None:
    return default_registry().engine_for(src, dst)


def supported_pairs() -> dict[tuple[str, str], str]:
    return default_registry().supported_pairs()
