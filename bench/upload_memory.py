"""Upload memory: the web process's peak RSS while a 300 MB upload streams through
POST /api/conversion/convert (runserver, MAX_UPLOAD_MB=1024).

Two paths: an anonymous caller (free plan, 50 MB: the body is read, then refused with 413)
and an Enterprise account (2 GB plan: accepted, stored, queued). The peak (VmHWM from
/proc/<pid>/status) is sampled after a warm-up upload and after each big upload.

Run: .venv/bin/python bench/upload_memory.py      Target: peak growth < 50 MB. Printed, not asserted.
"""

from __future__ import annotations

import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, proc_status, result_line  # noqa: E402

SIZE_MB = 300
TARGET_MB = 50


def make_wav(path: Path, size: int) -> Path:
    """A valid PCM WAV header followed by silence (a sparse file: no disk time to create)."""
    data = size - 44
    header = (b"RIFF" + struct.pack("<I", size - 8) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16)
              + b"data" + struct.pack("<I", data))
    with open(path, "wb") as fh:
        fh.write(header)
        fh.truncate(size)
    return path


def main() -> dict:
    with Stack(extra_env={"MAX_UPLOAD_MB": "1024"}) as stack:
        pid = stack.web_proc.pid
        print(f"stack: runserver 127.0.0.1:{stack.port} (pid {pid}), MAX_UPLOAD_MB=1024, no worker "
              f"(accepted jobs stay queued), broker {stack.broker}", flush=True)
        big = make_wav(stack.tmp / "big.wav", SIZE_MB * 1024 * 1024)
        small = make_wav(stack.tmp / "small.wav", 1024 * 1024)
        token = stack.user_token("enterprise")

        # Warm-up: every code path of an accepted upload has run once.
        for auth in ("", token):
            status, body = stack.upload(small, "mp3", token=auth)
            assert status == 202, (status, body)
        base = proc_status(pid)
        print(f"after warm-up: VmRSS {base['VmRSS'] / 1024:.1f} MB, VmHWM {base['VmHWM'] / 1024:.1f} MB",
              flush=True)

        figures = {"size_mb": SIZE_MB, "baseline_hwm_mb": round(base["VmHWM"] / 1024, 1)}
        previous = base["VmHWM"]
        for label, auth, expected in (("anonymous (50 MB plan)", "", 413),
                                      ("enterprise (2 GB plan)", token, 202)):
            started = time.perf_counter()
            status, body = stack.upload(big, "mp3", token=auth)
            elapsed = time.perf_counter() - started
            after = proc_status(pid)
            growth = (after["VmHWM"] - base["VmHWM"]) / 1024
            step = (after["VmHWM"] - previous) / 1024
            previous = after["VmHWM"]
            ok = "met" if growth < TARGET_MB else "NOT met"
            print(f"{SIZE_MB} MB upload, {label}: HTTP {status} (expected {expected}) in {elapsed:.1f} s; "
                  f"VmHWM {after['VmHWM'] / 1024:.1f} MB, peak growth {growth:.1f} MB since warm-up "
                  f"(+{step:.1f} MB this upload), VmRSS {after['VmRSS'] / 1024:.1f} MB "
                  f"(target < {TARGET_MB} MB: {ok})", flush=True)
            if status != expected:
                print(f"    unexpected response: {body}", flush=True)
            key = "anonymous" if not auth else "enterprise"
            figures[key] = {"status": status, "seconds": round(elapsed, 1),
                            "peak_growth_mb": round(growth, 1), "met": growth < TARGET_MB}
    result_line("upload_memory", **figures)
    return figures


if __name__ == "__main__":
    main()
