"""Run every benchmark (each in its own process, each cleaning up after itself) and summarise.

Run: .venv/bin/python bench/run_all.py   (or `make bench`). Exits non-zero only if a benchmark
crashed or timed out; missed targets are reported, not failures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# load.py --config postgres runs only with BENCH_DATABASE_URL (a dedicated, migrated database) and
# BENCH_REDIS_URL (REDIS_URL keeps its meaning: the broker of the other benchmarks).
BENCHES = ["service_overhead.py", "upload_memory.py", "worker_memory.py", "throughput.py", "office.py", "load.py",
           "load.py --config postgres"]
TIMEOUT = 900


def run(script: str) -> tuple[dict | None, float]:
    print(f"\n=== {script} ===", flush=True)
    started = time.monotonic()
    name, *args = script.split()
    proc = subprocess.Popen([sys.executable, str(HERE / name), *args], stdout=subprocess.PIPE,
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


def summary(results: dict[str, dict | None]) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, target, met) rows: every figure measured in this run."""
    rows = []
    so = results.get("service_overhead.py")
    if so:
        for key, label in (("jpg_png", "5 MB JPEG->PNG"), ("wav_mp3", "10 s WAV->MP3")):
            r = so[key]
            parts = ", ".join(f"{k} {v}" for k, v in r.get("parts_ms", {}).items())
            rows.append((f"service overhead {label} [{so['broker']}]",
                         f"{r['service_ms']} ms vs direct {r['direct_ms']} ms = {r['ratio']}x ({parts} ms)",
                         f"<= {r['target']}x", _mark(r["met"])))
    um = results.get("upload_memory.py")
    if um:
        for key in ("anonymous", "enterprise"):
            r = um[key]
            rows.append((f"upload memory {um['size_mb']} MB {key}",
                         f"HTTP {r['status']}, peak RSS growth {r['peak_growth_mb']} MB", "< 50 MB", _mark(r["met"])))
    wm = results.get("worker_memory.py")
    if wm:
        ctl, cap = wm["control"], wm["capped"]
        rows.append((f"worker memory after a 256 Mpx job, ceiling {cap['ceiling_mb']} MB",
                     f"child baseline {cap['baseline_mb']} MB, peak {cap['peak_mb']} MB, after {cap['after_mb']} MB "
                     f"(recycled {cap['recycled']}); no ceiling: after {ctl['after_mb']} MB",
                     f"< baseline + {wm['target_growth_mb']} MB", _mark(wm["met"])))
    tp = results.get("throughput.py")
    if tp:
        ceiling = tp["machine_ceiling"]
        rows.append((f"throughput 1 -> 2 worker processes [{tp['broker']}]",
                     f"{tp['c1']['per_minute']} -> {tp['c2']['per_minute']} conversions/min = {tp['ratio']}x "
                     f"(machine ceiling {ceiling['ratio']}x)", f">= {tp['target']}x", _mark(tp["met"])))
    of = results.get("office.py")
    if of and of.get("absent"):
        rows.append(("office DOCX->PDF", f"corpus folder absent ({of['corpus']})", "", "skipped"))
    elif of:
        rate = of["docs_per_s"]
        rows.append((f"office DOCX->PDF, {of['documents']} corpus docs",
                     f"cold soffice {rate['cold']} | warm unoserver {rate['warm_unoserver']} | service "
                     f"{rate['service']} docs/s", "", ""))
        rows.append(("office service / cold soffice", f"{of['service_vs_cold']}x", ">= 3x",
                     _mark(of["met"]["vs_cold"])))
        rows.append(("office service / one warm listener", f"{of['service_vs_warm']}x", ">= 1.0x",
                     _mark(of["met"]["vs_warm"])))
        lat = of["latency_ms"]
        rows.append(("office latency end to end / unoconvert",
                     f"{lat['service']} ms vs {lat['unoconvert']} ms = {of['latency_ratio']}x", "<= 2x",
                     _mark(of["met"]["latency"])))
    for key in ("load.py", "load.py --config postgres"):
        ld = results.get(key)
        if ld:
            rows.append((f"load {ld['users']} users {ld['seconds']} s [{ld['config']}]",
                         f"{ld['rps']} req/s, p50/p95/p99 {ld['p50_ms']}/{ld['p95_ms']}/{ld['p99_ms']} ms, "
                         f"5xx {ld['http_5xx']}, conn errors {ld['connection_errors']}, {ld['jobs']} jobs "
                         f"drained in {ld['drain_s']} s; idle worker CPU {ld['idle_worker_cpu_pct']} %",
                         "0 5xx, 0 errors, drained", _mark(ld["met"])))
    for script, result in results.items():
        if result is None:
            rows.append((script, "FAILED or skipped (see output above)", "", ""))
    return rows


def table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    header = ("benchmark", "figure (this run)", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = lambda r: " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return [line(header), "-+-".join("-" * w for w in widths), *[line(r) for r in rows]]


def main() -> int:
    results, durations = {}, {}
    for script in BENCHES:
        if "postgres" in script and not (os.environ.get("BENCH_DATABASE_URL") and os.environ.get("BENCH_REDIS_URL")):
            print(f"\n=== {script} === skipped: set BENCH_DATABASE_URL (dedicated database) and BENCH_REDIS_URL")
            continue
        results[script], durations[script] = run(script)
    print("\n=== summary ===")
    for line in table(summary(results)):
        print(line)
    print("durations: " + ", ".join(f"{k} {v:.0f} s" for k, v in durations.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
