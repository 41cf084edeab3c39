"""Safe subprocess execution for external converters.

* argument lists only (never a shell);
* new session / process group, killed as a whole on timeout or error;
* stdin is /dev/null; stdout/stderr captured with a bounded buffer;
* callbacks for output lines run in the calling thread (safe for DB access).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .base import EngineError, EngineTimeout

MAX_CAPTURE = 64 * 1024
_LINE_LIMIT = 16 * 1024


@dataclass
class RunResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration: float


class _Tail:
    """Keeps only the last ``limit`` bytes written."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buf = bytearray()

    def add(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > self.limit:
            del self.buf[: len(self.buf) - self.limit]

    def text(self) -> str:
        return self.buf.decode("utf-8", "replace")


def safe_env(extra_path: list[str | Path] | None = None,
             extra: Mapping[str, str] | None = None, home: Path | None = None) -> dict[str, str]:
    """Minimal environment for converters: no secrets from the parent process."""
    path_parts = [str(p) for p in (extra_path or [])]
    path_parts.append(os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"))
    env = {
        "PATH": os.pathsep.join(path_parts),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    if home is not None:
        env["HOME"] = str(home)
        env["TMPDIR"] = str(home)
    if extra:
        env.update(extra)
    return env


def _reader(name: str, pipe, q: queue.Queue) -> None:
    try:
        for line in iter(lambda: pipe.readline(_LINE_LIMIT), b""):
            q.put((name, line))
    except (OSError, ValueError):  # pragma: no cover - pipe closed under us
        pass
    finally:
        q.put((name, None))


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the whole process group started for ``proc`` and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(timeout=5)


def _die_with_parent() -> None:
    """In the child: get SIGKILL if the worker that started us dies (a SIGKILLed worker never
    reaches our timeout handling, and the child lives in its own session)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


@functools.cache
def _pdeathsig_prefix() -> tuple[str, ...] | None:
    """util-linux's ``setpriv --pdeathsig KILL --`` sets the same parent-death signal as
    ``_die_with_parent`` and then execs the converter. A ``preexec_fn`` makes Python fork the whole
    worker instead of vfork: ~80 ms per start with a 300 MB heap, against ~9 ms through setpriv."""
    setpriv = shutil.which("setpriv")
    if not setpriv or not sys.platform.startswith("linux"):
        return None
    try:
        helptext = subprocess.run([setpriv, "--help"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return (setpriv, "--pdeathsig", "KILL", "--") if "--pdeathsig" in helptext else None


def run(args: list[str], *, timeout: float, cwd: Path, env: Mapping[str, str] | None = None,
        on_line: Callable[[str, str], None] | None = None, check: bool = True,
        max_capture: int = MAX_CAPTURE) -> RunResult:
    """Run ``args`` and wait at most ``timeout`` seconds.

    ``on_line(stream, line)`` is called (in this thread) for every stdout/stderr line.
    Raises EngineTimeout (process group killed) or EngineError on non-zero exit when
    ``check`` is true.
    """
    if isinstance(args, (str, bytes)):
        raise TypeError("args must be a list, never a shell string")
    args = [str(a) for a in args]
    if timeout <= 0:
        raise EngineTimeout(detail="no time left before starting the process")
    started = time.monotonic()
    deadline = started + timeout
    prefix = _pdeathsig_prefix()
    if prefix and shutil.which(args[0], path=(env or os.environ).get("PATH")) is None:
        raise EngineError(code="engine_unavailable", message="El conversor no está disponible",
                          detail=f"cannot start {args[0]}: not found")
    try:
        proc = subprocess.Popen(
            [*prefix, *args] if prefix else args,
            cwd=str(cwd),
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
            preexec_fn=None if prefix else _die_with_parent,
        )
    except OSError as exc:
        raise EngineError(code="engine_unavailable",
                          message="El conversor no está disponible",
                          detail=f"cannot start {args[0]}: {exc}") from exc

    out, err = _Tail(max_capture), _Tail(max_capture)
    q: queue.Queue = queue.Queue()
    threads = [
        threading.Thread(target=_reader, args=("stdout", proc.stdout, q), daemon=True),
        threading.Thread(target=_reader, args=("stderr", proc.stderr, q), daemon=True),
    ]
    for t in threads:
        t.start()
    open_streams = 2
    try:
        while open_streams:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EngineTimeout(detail=f"{Path(args[0]).name} killed after {timeout:.0f}s")
            try:
                name, line = q.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
                continue
            (out if name == "stdout" else err).add(line)
            if on_line is not None:
                on_line(name, line.decode("utf-8", "replace").rstrip("\r\n"))
        try:
            returncode = proc.wait(timeout=max(0.01, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise EngineTimeout(
                detail=f"{Path(args[0]).name} killed after {timeout:.0f}s") from None
    except BaseException as exc:
        kill_group(proc)
        if isinstance(exc, EngineTimeout):
            exc.detail = f"{exc.detail}\n{err.text()[-4000:]}"
        raise
    finally:
        # Stray grandchildren (daemonised helpers) must not outlive the conversion.
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        for stream in (proc.stdout, proc.stderr):
            with contextlib.suppress(Exception):
                stream.close()
    result = RunResult(args, returncode, out.text(), err.text(), time.monotonic() - started)
    if check and returncode != 0:
        raise EngineError(
            code="engine_failed",
            detail=f"{Path(args[0]).name} exited with {returncode}: {result.stderr[-4000:]}",
        )
    return result
