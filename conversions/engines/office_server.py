"""A warm LibreOffice per worker process (the cold path pays LibreOffice's start-up per document).

Each worker process starts, lazily on its first office conversion, one listener: the LibreOffice
python runs ``_office_bridge.py``, which starts ``soffice.bin`` with a private profile (the cold
path's hardened ``registrymodifications.xcu``: macros off, links and fields never updated) accepting
UNO on a private named pipe, and converts one document per request line over its stdin/stdout.

* Recycled after ``OFFICE_WARM_MAX_CONVERSIONS`` conversions and after any failure or timeout.
* A conversion that outlives the job's time limit kills the listener (bridge and LibreOffice, one
  process group) and raises ``EngineTimeout``; a crash of the listener recycles it and the caller
  converts that document the cold way; a document the listener cannot load goes the cold way too.
* The listener dies with its worker, even on SIGKILL: the bridge gets SIGKILL when the worker dies
  and LibreOffice when the bridge dies (PR_SET_PDEATHSIG), and the bridge also stops at stdin EOF.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import process
from .base import ConvertOptions, EngineTimeout
from .office_profile import profile_write

logger = logging.getLogger(__name__)

BRIDGE = Path(__file__).with_name("_office_bridge.py")
PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/lib/libreoffice/program/python")
DEFAULT_MAX_CONVERSIONS = 50
DEFAULT_START_TIMEOUT = 60.0


def _setting(name: str, default):
    try:
        from django.conf import settings

        return getattr(settings, name, default)
    except Exception:  # usable without Django (the bridge tests, bench scripts)
        return default


@lru_cache(maxsize=1)
def office_python() -> str | None:
    """A python that can ``import uno`` (LibreOffice's bindings), or None."""
    configured = _setting("OFFICE_PYTHON", "") or ""
    for candidate in ([configured] if configured else []) + list(PYTHON_CANDIDATES):
        if not candidate or not Path(candidate).exists():
            continue
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run([candidate, "-I", "-c", "import uno"], capture_output=True, timeout=30,
                                  env=process.safe_env())
            if done.returncode == 0:
                return candidate
    return None


@lru_cache(maxsize=8)
def soffice_bin(soffice: str) -> str | None:
    """The real LibreOffice binary beside ``soffice`` (not the shell script / oosplash, which would
    leave ``soffice.bin`` behind when killed); None when there is none (a stand-in ``soffice``)."""
    real = Path(os.path.realpath(soffice))
    candidate = real if real.name == "soffice.bin" else real.with_name("soffice.bin")
    return str(candidate) if candidate.is_file() else None


class ListenerError(Exception):
    """The listener could not start, crashed or hung (it has been killed)."""


class LoadRefused(Exception):
    """The listener is fine but could not load or store this document (the cold path may)."""


@dataclass
class Answer:
    ok: bool
    error: str = ""
    detail: str = ""


class OfficeListener:
    """One bridge + LibreOffice pair; not thread-safe (``WarmOffice`` serialises its use)."""

    def __init__(self, soffice: str, *, start_timeout: float = DEFAULT_START_TIMEOUT) -> None:
        python, binary = office_python(), soffice_bin(soffice)
        if not python or not binary:
            raise ListenerError("no LibreOffice python with uno, or no soffice.bin")
        self.home = Path(tempfile.mkdtemp(prefix="anclora-office-"))
        os.chmod(self.home, 0o700)
        profile = profile_write(self.home / "profile")
        self.soffice = soffice
        self.conversions = 0
        self.busy = threading.Event()  # set while a request is in flight (tests wait on it)
        self._buffer = b""
        self._stderr = open(self.home / "bridge.log", "wb")  # noqa: SIM115 - closed in close()
        pipe = f"anclora-{os.getpid()}-{uuid.uuid4().hex}"
        env = process.safe_env(home=self.home, extra={"ANCLORA_OFFICE_START_TIMEOUT": str(start_timeout)})
        try:
            self.proc = subprocess.Popen(
                [python, "-I", str(BRIDGE), binary, str(profile), pipe],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                cwd=str(self.home), env=env, close_fds=True, start_new_session=True,
                preexec_fn=process._die_with_parent,
            )
        except OSError as exc:
            self.close()
            raise ListenerError(f"cannot start the bridge: {exc}") from exc
        try:
            hello = self._read(start_timeout + 5)
        except EngineTimeout as exc:
            self.close()
            raise ListenerError("listener did not start in time") from exc
        except BaseException:
            self.close()
            raise
        if not hello.get("ready"):
            self.close()
            raise ListenerError(f"listener did not start: {hello.get('detail', '')}")
        self.soffice_pid: int = int(hello["pid"])

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None and _pid_alive(self.soffice_pid)

    def convert(self, src: Path, dst: Path, *, export_filter: str, filter_options: str = "",
                infilter: str = "", timeout: float) -> None:
        """Convert one document; ``LoadRefused`` leaves the listener usable, any other error
        (``ListenerError``, ``EngineTimeout``, an interruption) has killed it."""
        request = {"src": str(Path(src).resolve()), "dst": str(Path(dst).resolve()),
                   "filter": export_filter, "options": filter_options, "infilter": infilter}
        try:
            if timeout <= 0:
                raise EngineTimeout(detail="no time left for the warm listener")
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            self.busy.set()
            answer = self._read(timeout)
        except EngineTimeout as exc:
            self.close()
            exc.detail = f"warm LibreOffice killed after {timeout:.0f}s"
            raise
        except BaseException:  # a crash, a broken pipe, a soft time limit: never reuse it
            self.close()
            raise
        finally:
            self.busy.clear()
        self.conversions += 1
        if answer.get("ok"):
            return
        if answer.get("error") in ("load_failed", "store_failed"):
            raise LoadRefused(f"{answer.get('error')}: {answer.get('detail', '')}")
        self.close()
        raise ListenerError(f"{answer.get('error')}: {answer.get('detail', '')}")

    def _read(self, timeout: float) -> dict:
        """One JSON line from the bridge within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EngineTimeout(detail="warm LibreOffice did not answer in time")
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ListenerError(f"listener exited: {self.log_tail()}")
            self._buffer += chunk
            if len(self._buffer) > 1024 * 1024:
                raise ListenerError("listener answer too long")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError as exc:
            raise ListenerError(f"listener answered garbage: {line[:200]!r}") from exc

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.home / "bridge.log").read_bytes()[-2000:].decode("utf-8", "replace")
        return ""

    def close(self) -> None:
        """Kill the bridge and LibreOffice (one process group) and remove the profile."""
        proc = getattr(self, "proc", None)
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            with contextlib.suppress(OSError):
                proc.stdout.close()
        soffice = getattr(self, "soffice_pid", None)
        if soffice:
            with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
                os.kill(soffice, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self._stderr.close()
        shutil.rmtree(self.home, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


class WarmOffice:
    """This process's listener: started on first use, recycled after N uses or any failure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listener: OfficeListener | None = None
        self._owner = os.getpid()

    @property
    def listener(self) -> OfficeListener | None:
        return self._listener if self._owner == os.getpid() else None

    def _get(self, soffice: str, options: ConvertOptions) -> OfficeListener:
        if self._owner != os.getpid():  # a forked child never shares its parent's listener
            self._listener, self._owner = None, os.getpid()
        listener = self._listener
        if listener is not None and (not listener.alive() or listener.soffice != soffice
                                     or listener.conversions >= max_conversions()):
            listener.close()
            listener = self._listener = None
        if listener is None:
            timeout = min(float(_setting("OFFICE_WARM_START_TIMEOUT", DEFAULT_START_TIMEOUT)),
                          max(options.remaining() - 1, 0.1))
            listener = self._listener = OfficeListener(soffice, start_timeout=timeout)
        return listener

    def convert(self, soffice: str, src: Path, dst: Path, *, export_filter: str, filter_options: str,
                infilter: str, options: ConvertOptions) -> bool:
        """True when the warm listener converted; False when the cold path should (warm office
        off or unavailable, the listener crashed, or it could not load this document)."""
        if not enabled() or soffice_bin(soffice) is None:
            return False
        with self._lock:
            try:
                listener = self._get(soffice, options)
            except ListenerError as exc:
                logger.warning("warm LibreOffice unavailable, cold path: %s", exc)
                return False
            options.report(10)  # a step: the listener is up, the document goes in
            try:
                listener.convert(src, dst, export_filter=export_filter, filter_options=filter_options,
                                 infilter=infilter, timeout=options.remaining())
            except LoadRefused as exc:
                logger.info("warm LibreOffice refused the document, cold path: %s", str(exc)[:300])
                Path(dst).unlink(missing_ok=True)
                self._recycle()  # after any failure
                return False
            except ListenerError as exc:
                logger.warning("warm LibreOffice crashed, cold path: %s", str(exc)[:300])
                Path(dst).unlink(missing_ok=True)
                self._listener = None
                return False
            except BaseException:
                self._listener = None  # already killed by OfficeListener.convert
                raise
            return True

    def _recycle(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def shutdown(self) -> None:
        with self._lock:
            self._recycle()


def enabled() -> bool:
    return bool(_setting("OFFICE_WARM_ENABLED", True)) and office_python() is not None


def max_conversions() -> int:
    return max(1, int(_setting("OFFICE_WARM_MAX_CONVERSIONS", DEFAULT_MAX_CONVERSIONS)))


warm_office = WarmOffice()


def convert_to_parts(convert_to: str) -> tuple[str, str]:
    """``"pdf:writer_pdf_Export"`` / ``"txt:Text (encoded):UTF8"`` -> (filter, filter options)."""
    _, _, rest = convert_to.partition(":")
    export_filter, _, options = rest.partition(":")
    return export_filter, options


def convert_args(args: list[str], options: ConvertOptions) -> bool:
    """Convert what a cold ``soffice --convert-to`` command line asks for, with the warm listener.

    Reads ``--convert-to``, ``--infilter=``, ``--outdir`` and the input from ``args`` (so the
    cold path's filter tables stay the single source). True when done; False: run ``args``.
    """
    try:
        convert_to = args[args.index("--convert-to") + 1]
        outdir = Path(args[args.index("--outdir") + 1])
    except (ValueError, IndexError):
        return False
    src = Path(args[-1])
    infilter = next((a.split("=", 1)[1] for a in args if a.startswith("--infilter=")), "")
    extension = convert_to.split(":", 1)[0]
    export_filter, filter_options = convert_to_parts(convert_to)
    if not export_filter:
        return False
    dst = outdir / f"{src.stem}.{extension}"
    return warm_office.convert(args[0], src, dst, export_filter=export_filter, filter_options=filter_options,
                               infilter=infilter, options=options)
