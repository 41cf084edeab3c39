"""Worker throughput: a backlog of 50 small image conversions drained by one worker process
(--concurrency 1), then another backlog of 50 by --concurrency 2.

The 50 jobs are uploaded (through the API) while no worker runs, so the broker holds the whole
backlog; the worker then drains it and the rate is taken from the jobs' own timestamps
(first started_at -> last finished_at), read from the stack's SQLite database.

Run: .venv/bin/python bench/throughput.py      Target: 2 processes >= 1.7x one. Printed, not asserted.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, result_line  # noqa: E402

JOBS = 50
TARGET = 1.7
SIZE = (1280, 960)  # a small photo: JPEG -> PNG


def make_jpeg(path: Path) -> Path:
    from PIL import Image

    noise = Image.effect_noise(SIZE, 48).convert("RGB")
    grad = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    Image.blend(noise, grad, 0.5).save(path, "JPEG", quality=90)
    return path


def _engine_job(args: tuple[str, str]) -> None:
    from conversions.engines.base import ConvertOptions
    from conversions.engines.registry import default_registry

    src, workdir = map(Path, args)
    workdir.mkdir(parents=True, exist_ok=True)
    default_registry().engine_for("jpg", "png").convert(src, workdir / "out.png", "jpg", "png",
                                                        ConvertOptions(workdir=workdir))


def machine_scaling(src: Path, tmp: Path, jobs: int = 20) -> dict:
    """The same engine call in 1 and 2 plain processes: the ceiling this machine allows."""
    from multiprocessing import get_context

    rates = {}
    for processes in (1, 2):
        with get_context("fork").Pool(processes) as pool:
            pool.map(_engine_job, [(str(src), str(tmp / f"cal{processes}-w{i}")) for i in range(processes)])
            started = time.perf_counter()
            pool.map(_engine_job, [(str(src), str(tmp / f"cal{processes}-{i}")) for i in range(jobs)])
            rates[processes] = jobs / (time.perf_counter() - started) * 60
    return {"c1_per_minute": round(rates[1], 1), "c2_per_minute": round(rates[2], 1),
            "ratio": round(rates[2] / rates[1], 2)}


def _parse(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def backlog(stack: Stack, src: Path, token: str) -> list[str]:
    ids = []
    for _ in range(JOBS):
        status, body = stack.upload(src, "png", token=token)
        if status != 202:
            raise RuntimeError(f"upload refused: {status} {body}")
        ids.append(body["conversions"][0]["id"].replace("-", ""))
    return ids


def drain(stack: Stack, ids: list[str], concurrency: int) -> dict:
    db = sqlite3.connect(f"file:{stack.tmp / 'var' / 'anclora.sqlite3'}?mode=ro", uri=True, timeout=30)
    marks = ",".join("?" * len(ids))

    def rows():
        return db.execute(f"SELECT status, started_at, finished_at FROM conversions_conversion "
                          f"WHERE replace(id, '-', '') IN ({marks})", ids).fetchall()

    worker = stack.start_worker(concurrency=concurrency, name=f"throughput-c{concurrency}")
    ready = time.monotonic()
    deadline = ready + 600
    while True:
        found = rows()
        if len(found) == len(ids) and all(status not in ("pending", "processing") for status, *_ in found):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"backlog not drained: {sorted({s for s, *_ in found})}")
        time.sleep(0.25)
    wall = time.monotonic() - ready
    stack.stop(worker)
    db.close()
    failed = [s for s, *_ in found if s != "completed"]
    if failed:
        raise RuntimeError(f"{len(failed)} conversions did not complete: {failed[:5]}")
    first = min(_parse(started) for _, started, _ in found)
    last = max(_parse(finished) for *_, finished in found)
    span = last - first
    jobs = sorted(_parse(finished) - _parse(started) for _, started, finished in found)
    busy = sum(jobs) / (span * concurrency)  # share of the process-seconds spent inside jobs
    return {"seconds": round(span, 2), "per_minute": round(len(ids) / span * 60, 1),
            "wall_seconds": round(wall, 2), "median_job_s": round(jobs[len(jobs) // 2], 3),
            "busy": round(busy, 2)}


def main() -> dict:
    with Stack() as stack:
        print(f"stack: runserver 127.0.0.1:{stack.port}, broker {stack.broker}, database sqlite; "
              f"{JOBS} JPEG->PNG {SIZE[0]}x{SIZE[1]} per run", flush=True)
        src = make_jpeg(stack.tmp / "photo.jpg")
        token = stack.user_token()
        ceiling = machine_scaling(src, stack.tmp / "calibration")
        print(f"machine ceiling (engine only, no service; multiprocessing 1 vs 2): "
              f"{ceiling['c1_per_minute']:.0f} vs {ceiling['c2_per_minute']:.0f} conversions/min = "
              f"{ceiling['ratio']:.2f}x; load average {os.getloadavg()[0]:.2f}", flush=True)
        results = {}
        for concurrency in (1, 2):
            ids = backlog(stack, src, token)
            results[concurrency] = drain(stack, ids, concurrency)
            r = results[concurrency]
            print(f"--concurrency {concurrency}: {JOBS} jobs in {r['seconds']:.1f} s "
                  f"(first start -> last finish) = {r['per_minute']:.0f} conversions/min; median job "
                  f"{r['median_job_s'] * 1000:.0f} ms, processes busy {r['busy']:.0%} of the time", flush=True)
        ratio = results[2]["per_minute"] / results[1]["per_minute"]
        met = "met" if ratio >= TARGET else "NOT met"
        print(f"scaling 2 vs 1 processes: {ratio:.2f}x (target >= {TARGET}x: {met})", flush=True)
    result_line("throughput", broker=stack.broker, c1=results[1], c2=results[2], ratio=round(ratio, 2),
                target=TARGET, met=ratio >= TARGET, machine_ceiling=ceiling)
    return results


if __name__ == "__main__":
    main()
