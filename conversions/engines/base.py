"""Common types for conversion engines."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

GIB = 1024**3


class EngineError(Exception):
    """Conversion failure.

    ``code`` is a stable machine code, ``message`` a short Spanish text that can be
    shown to users and ``detail`` free text for logs only (may contain paths/stderr).
    """

    default_code = "conversion_failed"
    default_message = "No se pudo convertir el archivo"

    def __init__(self, message: str | None = None, code: str | None = None,
                 detail: str = "") -> None:
        self.code = code or self.default_code
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class EngineTimeout(EngineError):
    default_code = "timeout"
    default_message = "La conversión superó el tiempo máximo permitido"


class UnsafeInput(EngineError):
    default_code = "unsafe_input"
    default_message = "El archivo contiene elementos no permitidos"


class OutputTooLarge(EngineError):
    default_code = "output_too_large"
    default_message = "El archivo resultante supera el tamaño máximo permitido"


class OutputCapExceeded(EngineError):
    """The output the options ask for (frames × width × height, pages × DPI) is over a pixel cap."""

    default_code = "output_too_large"

    def __init__(self, message: str, *, total: int, cap: int, count: int, detail: str = "",
                 code: str | None = None) -> None:
        super().__init__(message, code=code, detail=detail or f"{total} output pixels in {count} > {cap}")
        self.total, self.cap, self.count = total, cap, count


@dataclass
class ConvertOptions:
    quality: str = "standard"
    time_limit: float = 300
    progress: Callable[[int], None] | None = None
    max_output_bytes: int = 2 * GIB
    workdir: Path | None = None
    # Hard cap on the duration of produced audio/video (seconds).
    max_media_seconds: float = 4 * 3600
    # Per-pair options already validated against the catalogue's schema (conversions/catalog).
    params: dict[str, object] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.quality, str) or not self.quality:
            self.quality = "standard"  # level names are the catalogue's; an engine falls back to "standard"
        if self.workdir is not None:
            self.workdir = Path(self.workdir)

    def begin(self) -> ConvertOptions:
        """Start the clock of the time limit (engines call this when a conversion starts)."""
        self.started_at = time.monotonic()
        return self

    def remaining(self) -> float:
        """Seconds left of the time limit (counted from ``begin()`` or creation)."""
        return self.time_limit - (time.monotonic() - self.started_at)

    def check_deadline(self) -> None:
        if self.remaining() <= 0:
            raise EngineTimeout(detail="time limit exceeded (cooperative check)")

    def report(self, percent: int) -> None:
        """Best-effort progress report; never lets a callback error break a conversion."""
        if self.progress is None:
            return
        with contextlib.suppress(Exception):
            self.progress(max(0, min(100, int(percent))))


class Engine:
    """Base class of conversion engines.

    Subclasses define ``name``, ``priority`` (higher wins), ``pairs()``, ``_probe()``
    (availability check, cached by ``is_available``) and ``_convert()``; ``convert()`` is the
    one template method every engine shares (check, begin, workspace, ``_convert``, deliver).
    """

    name: str = "engine"
    priority: int = 0
    QUALITY: dict[str, object] = {}

    def __init__(self, *, available: bool | None = None) -> None:
        """``available`` forces the answer of ``is_available`` (e.g. a test simulating a missing binary)."""
        self._available: bool | None = available

    def pairs(self) -> set[tuple[str, str]]:
        raise NotImplementedError

    def _probe(self) -> bool:
        return True

    def is_available(self) -> bool:
        if self._available is None:
            try:
                self._available = bool(self._probe())
            except Exception:  # pragma: no cover - defensive
                self._available = False
        return self._available

    def supports(self, src_fmt: str, dst_fmt: str) -> bool:
        return (src_fmt, dst_fmt) in self.pairs()

    def quality(self, options: ConvertOptions):
        return self.QUALITY.get(options.quality, self.QUALITY.get("standard"))

    def missing_codecs(self) -> dict[str, set[tuple[str, str]]]:
        """Optional codec packages this (available) engine lacks here -> the pairs each would add."""
        return {}

    def option_choices(self, option: str, dst_fmt: str) -> tuple[str, ...] | None:
        """Choices this engine (build) offers for an option whose values depend on it (e.g. ``codec``)."""
        return None

    def convert(self, src: Path, dst: Path, src_fmt: str, dst_fmt: str,
                options: ConvertOptions) -> None:
        """Convert ``src`` into ``dst``: the same steps for every engine.

        Refuse other pairs and a missing engine → start the clock and report 1 % → a private
        workspace → the engine's ``_convert`` writes ``workspace/output.<dst_fmt>`` → the
        output is checked (exists, non-empty, size cap) and moved to ``dst`` → report 100 %.
        """
        self.begin(src_fmt, dst_fmt, options)
        src, dst = Path(src).resolve(), Path(dst)
        with workspace(options, f"{self.name}-") as work:
            out = work / f"output.{dst_fmt}"
            produced = self._convert(src, out, src_fmt, dst_fmt, options) or out
            options.check_deadline()
            deliver(Path(produced), dst, options)
        options.report(100)

    def _convert(self, src: Path, out: Path, src_fmt: str, dst_fmt: str,
                 options: ConvertOptions) -> Path | None:
        """Engine-specific part: write the result to ``out``.

        ``out.parent`` is the engine's private workspace (removed afterwards) for any temporary
        file. May return another path inside the workspace when the tool chose the name.
        """
        raise NotImplementedError

    def begin(self, src_fmt: str, dst_fmt: str, options: ConvertOptions) -> None:
        """The template's first step: refuse other pairs and a missing engine, start the clock, report 1 %."""
        if not self.supports(src_fmt, dst_fmt):
            raise EngineError("Conversión no soportada", code="unsupported_pair")
        if not self.is_available():
            raise EngineError("El conversor no está disponible", code="engine_unavailable")
        options.begin()
        options.check_deadline()
        options.report(1)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} priority={self.priority}>"


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def workspace(options: ConvertOptions, prefix: str = "engine-") -> Iterator[Path]:
    """Private temporary directory (inside ``options.workdir`` when given), removed after."""
    parent = options.workdir
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        os.chmod(path, 0o700)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def check_output(path: Path, options: ConvertOptions) -> None:
    """Verify an output exists, is non-empty and within the size limit."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise EngineError(detail=f"output not produced: {path.name}") from None
    if size == 0:
        raise EngineError(detail="empty output")
    if size > options.max_output_bytes:
        with contextlib.suppress(OSError):
            path.unlink()
        raise OutputTooLarge(detail=f"{size} > {options.max_output_bytes}")


def deliver(produced: Path, dst: Path, options: ConvertOptions) -> None:
    """Check ``produced`` and move it to ``dst``."""
    check_output(produced, options)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(produced, dst)
    except OSError:
        shutil.move(str(produced), str(dst))


def read_head(path: Path, size: int = 65536) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)
