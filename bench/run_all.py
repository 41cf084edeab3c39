"""Run every benchmark (each in its own process, each cleaning up after itself) and summarise.

Run: .venv/bin/python bench/run_all.py   (or `make bench`). Exits non-zero only if a benchmark
crashed or timed out; missed targets are reported, not failures.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["service_overhead.py", "upload_memory.py", "throughput.py"]
TIMEOUT = 900


def run(script: str) -> tuple[dict | None, float]:
    print(f"\n=== {script} ===", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(HERE / script)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=HERE.parent)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        proc.terminate()  # SIGTERM: the benchmark's own cleanup stops the stack it started
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()

    timer = threading.Timer(TIMEOUT, stop)
    timer.start()
    result = None
    try:
        for line in proc.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
            else:
                print(line, end="", flush=True)
        proc.wait()
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    if timed_out.is_set():
        print(f"{script}: timed out after {TIMEOUT}s", flush=True)
        return None, elapsed
    if proc.returncode != 0:
        print(f"{script}: exited with {proc.returncode}", flush=True)
        return None, elapsed
    return result, elapsed


def _mark(met: bool) -> str:
    return "met" if met else "NOT met"


def summary(results: dict[str, dict | None]) -> list[str]:
    lines = []
    so = results.get("service_overhead.py")
    if so:
        for key, label in (("jpg_png", "5 MB JPEG->PNG"), ("wav_mp3", "10 s WAV->MP3")):
            r = so[key]
            lines.append(f"service overhead {label}: {r['service_ms']} ms vs direct {r['direct_ms']} ms = "
                         f"{r['ratio']}x (target <= {r['target']}x: {_mark(r['met'])}) [{so['broker']}]")
    um = results.get("upload_memory.py")
    if um:
        for key in ("anonymous", "enterprise"):
            r = um[key]
            lines.append(f"upload memory {um['size_mb']} MB {key}: HTTP {r['status']}, peak RSS growth "
                         f"{r['peak_growth_mb']} MB (target < 50 MB: {_mark(r['met'])})")
    tp = results.get("throughput.py")
    if tp:
        ceiling = tp["machine_ceiling"]
        lines.append(f"throughput: {tp['c1']['per_minute']} -> {tp['c2']['per_minute']} conversions/min = "
                     f"{tp['ratio']}x (target >= {tp['target']}x: {_mark(tp['met'])}; machine ceiling "
                     f"{ceiling['ratio']}x) [{tp['broker']}]")
    for script, result in results.items():
        if result is None:
            lines.append(f"{script}: FAILED (see output above)")
    return lines


def main() -> int:
    results, durations = {}, {}
    for script in BENCHES:
        results[script], durations[script] = run(script)
    print("\n=== summary ===")
    for line in summary(results):
        print(line)
    print("durations: " + ", ".join(f"{k} {v:.0f} s" for k, v in durations.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
