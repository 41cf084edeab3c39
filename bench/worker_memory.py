"""Worker memory: a prefork child that ran a huge-but-allowed image job is recycled past the memory
ceiling (WORKER_MAX_MEMORY_MB -> CELERY_WORKER_MAX_MEMORY_PER_CHILD) and the worker's children are
back near their baseline afterwards.

The job: a 16-page 1x1 TIFF (a few KB) -> PDF resized to 4000x4000 a page: 256 Mpx, exactly the pixel
cap of conversions/engines/pillow.py (MAX_TOTAL_PIXELS). Run twice on a real prefork worker
(concurrency 1): without a ceiling (the control: the child keeps its peak) and with one.
For each: the child's RSS after a warm-up job (baseline), its peak during the big job (VmHWM, sampled),
and the RSS of the worker's children once the job has completed (and, with the ceiling, once the
replacement child is up).

Run: .venv/bin/python bench/worker_memory.py   Target: children after the job < baseline + 100 MB
with the ceiling. Printed, not asserted. BENCH_CEILING_MB sets the ceiling (default 1024, as in production).
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, proc_status, result_line  # noqa: E402

CEILING_MB = int(os.environ.get("BENCH_CEILING_MB", "1024"))  # the default of WORKER_MAX_MEMORY_MB
TARGET_GROWTH_MB = 100
BIG = {"width": 4000, "height": 4000, "fit": "fill"}  # 16 x 16 Mpx = 256 Mpx, the cap (allowed)


def tiny_tiff(path: Path, pages: int = 16) -> Path:
    from PIL import Image

    frames = [Image.new("RGB", (1, 1), (index * 10, 0, 0)) for index in range(pages)]
    frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:])
    return path


def small_png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 48), "green").save(path, "PNG")
    return path


def children(pid: int) -> list[int]:
    """Child processes of ``pid``, forked by any of its threads (the pool forks a replacement child
    from a helper thread: the main thread's list alone would miss it)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


def convert(stack: Stack, path: Path, target: str, options: dict, token: str) -> str:
    """POST /api/conversion/convert with ``options`` (multipart); returns the conversion id."""
    boundary = f"----anclora-bench-{uuid.uuid4().hex}"
    body = io.BytesIO()
    for key, value in (("target_format", target), ("options", json.dumps(options))):
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
               f'Content-Type: application/octet-stream\r\n\r\n'.encode() + path.read_bytes())
    body.write(f"\r\n--{boundary}--\r\n".encode())
    conn = stack.connection()
    try:
        conn.request("POST", "/api/conversion/convert", body=body.getvalue(),
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                              "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        data = json.loads(resp.read())
    finally:
        conn.close()
    if resp.status != 202:
        raise RuntimeError(f"convert: {resp.status} {data}")
    return data["conversions"][0]["id"]


def run_job(stack: Stack, worker_pid: int, path: Path, target: str, options: dict, token: str) -> dict:
    """Submit, sample the worker's children while the job runs, wait for it to end."""
    cid = convert(stack, path, target, options, token)
    peak, started = 0, time.monotonic()

    def finished():
        nonlocal peak
        for child in children(worker_pid):
            try:
                peak = max(peak, proc_status(child)["VmHWM"])
            except (OSError, KeyError):
                pass  # the child is being replaced
        status = stack.conversion(cid, token=token)["status"]
        return status if status in ("completed", "failed") else None

    status = stack.wait_for(finished, 600, f"conversion {cid}")
    return {"status": status, "seconds": round(time.monotonic() - started, 1), "peak_kb": peak}


def children_rss(pid: int) -> dict[int, int]:
    result = {}
    for child in children(pid):
        try:
            result[child] = proc_status(child)["VmRSS"]
        except (OSError, KeyError):
            pass
    return result


def measure(stack: Stack, ceiling_mb: int, token: str) -> dict:
    stack.env["WORKER_MAX_MEMORY_MB"] = str(ceiling_mb)
    worker = stack.start_worker(concurrency=1, name=f"mem{ceiling_mb}")
    try:
        warm = run_job(stack, worker.pid, small_png(stack.tmp / "warm.png"), "jpg", {"width": 32}, token)
        assert warm["status"] == "completed", warm
        before = stack.wait_for(lambda: children_rss(worker.pid), 30, "the worker's child", worker)
        (child_before, baseline), = before.items()
        big = run_job(stack, worker.pid, tiny_tiff(stack.tmp / "paginas.tiff"), "pdf", BIG, token)
        # With a ceiling the child exits after the task and the pool starts a new one: wait for it.
        if ceiling_mb:
            after = stack.wait_for(lambda: {p: r for p, r in children_rss(worker.pid).items() if p != child_before},
                                   60, "the replacement child", worker)
        else:
            after = children_rss(worker.pid)
        label = f"ceiling {ceiling_mb} MB" if ceiling_mb else "no ceiling"
        figures = {
            "ceiling_mb": ceiling_mb, "job_status": big["status"], "job_seconds": big["seconds"],
            "baseline_mb": mb(baseline), "peak_mb": mb(big["peak_kb"]),
            "after_mb": mb(max(after.values())), "recycled": child_before not in after,
        }
        figures["growth_mb"] = round(figures["after_mb"] - figures["baseline_mb"], 1)
        print(f"{label}: child {child_before} baseline {figures['baseline_mb']} MB, peak {figures['peak_mb']} MB "
              f"during the 256 Mpx job ({big['status']}, {big['seconds']} s); after: children "
              f"{ {p: mb(r) for p, r in after.items()} } MB, recycled={figures['recycled']}", flush=True)
        return figures
    finally:
        stack.stop(worker)


def main() -> dict:
    with Stack(web=True) as stack:
        print(f"stack: runserver 127.0.0.1:{stack.port}, prefork worker (concurrency 1), broker {stack.broker}",
              flush=True)
        token = stack.user_token("enterprise")
        control = measure(stack, 0, token)
        capped = measure(stack, CEILING_MB, token)
    met = capped["recycled"] and capped["growth_mb"] < TARGET_GROWTH_MB
    print(f"with the ceiling: children {capped['growth_mb']:+} MB over baseline after the job "
          f"(target < {TARGET_GROWTH_MB} MB): {'met' if met else 'NOT met'}; without: {control['growth_mb']:+} MB",
          flush=True)
    return {"control": control, "capped": capped, "target_growth_mb": TARGET_GROWTH_MB, "met": met}


if __name__ == "__main__":
    result_line("worker_memory", **main())
