"""Service overhead: upload -> completed -> downloaded through the real stack, versus the engine
called directly in one process, for a ~5 MB JPEG -> PNG and a 10 s WAV -> MP3.

Run: .venv/bin/python bench/service_overhead.py   (REDIS_URL set: Redis broker; else SQLite + sqla)
Targets: service time <= 1.3x direct (image), <= 1.15x (audio). Printed, not asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, median, result_line  # noqa: E402

RUNS = 5
POLL = 0.02  # status polling interval of the client (s)
CASES = [  # (label, source format, target format, target ratio)
    ("image 5 MB JPEG->PNG", "jpg", "png", 1.3),
    ("audio 10 s WAV->MP3", "wav", "mp3", 1.15),
]


def make_jpeg(path: Path) -> Path:
    from PIL import Image

    w, h = 3500, 2400
    noise = Image.effect_noise((w, h), 64).convert("RGB")
    grad = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    Image.blend(noise, grad, 0.5).save(path, "JPEG", quality=92)
    return path


def make_wav(path: Path, seconds: int = 10) -> Path:
    from conversions.engines.ffmpeg import ffmpeg_binary

    subprocess.run([ffmpeg_binary(), "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"sine=frequency=440:duration={seconds}", "-ac", "2", "-ar", "44100",
                    "-c:a", "pcm_s16le", str(path)], check=True, timeout=60)
    return path


def direct_seconds(src: Path, src_fmt: str, dst_fmt: str, workdir: Path) -> float:
    from conversions.engines.base import ConvertOptions
    from conversions.engines.registry import default_registry

    engine = default_registry().engine_for(src_fmt, dst_fmt)
    (workdir / "engine").mkdir(parents=True, exist_ok=True)
    times = []
    for i in range(RUNS + 1):  # the first run warms caches and imports
        dst = workdir / f"direct-{i}.{dst_fmt}"
        started = time.perf_counter()
        engine.convert(src, dst, src_fmt, dst_fmt,
                       ConvertOptions(quality="standard", workdir=workdir / "engine"))
        if i:
            times.append(time.perf_counter() - started)
        dst.unlink()
    return median(times)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def round_trip(stack: Stack, src: Path, dst_fmt: str, token: str) -> tuple[float, dict]:
    """Seconds for upload -> completed -> downloaded, and where they went."""
    started = time.perf_counter()
    wall_start = time.time()
    status, body = stack.upload(src, dst_fmt, token=token)
    uploaded = time.perf_counter()
    if status != 202:
        raise RuntimeError(f"upload refused: {status} {body}")
    cid = body["conversions"][0]["id"]
    deadline = time.monotonic() + 300
    while True:
        detail = stack.conversion(cid, token=token)
        if detail["status"] not in ("pending", "processing"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"conversion {cid} still {detail['status']}")
        time.sleep(POLL)
    seen = time.perf_counter()
    if detail["status"] != "completed":
        raise RuntimeError(f"conversion {cid} {detail['status']}: {detail.get('error')}")
    stack.download(detail["download_url"], token=token)
    total = time.perf_counter() - started
    queued = _ts(detail["started_at"]) - (wall_start + (uploaded - started))
    work = _ts(detail["finished_at"]) - _ts(detail["started_at"])
    return total, {"upload": uploaded - started, "queue": queued, "job": work,
                   "notice": (seen - uploaded) - queued - work, "download": total - (seen - started)}


def main() -> dict:
    with Stack() as stack:
        print(f"stack: runserver 127.0.0.1:{stack.port}, 1 worker (prefork, concurrency 1), "
              f"broker {stack.broker}, database sqlite, {RUNS} runs each (median); "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        samples = stack.tmp / "samples"
        samples.mkdir()
        sources = {"jpg": make_jpeg(samples / "photo.jpg"), "wav": make_wav(samples / "tone.wav")}
        token = stack.user_token()
        stack.start_worker(concurrency=1)
        figures = {"broker": stack.broker}
        for label, src_fmt, dst_fmt, target in CASES:
            src = sources[src_fmt]
            direct = direct_seconds(src, src_fmt, dst_fmt, stack.tmp / "direct")
            round_trip(stack, src, dst_fmt, token)  # warm-up (worker imports, first queries)
            runs = [round_trip(stack, src, dst_fmt, token) for _ in range(RUNS)]
            service = median([total for total, _ in runs])
            parts = {key: median([p[key] for _, p in runs]) for key in runs[0][1]}
            ratio = service / direct
            met = "met" if ratio <= target else "NOT met"
            print(f"{label} ({src.stat().st_size / 1e6:.1f} MB): direct {direct * 1000:.0f} ms, "
                  f"service {service * 1000:.0f} ms, ratio {ratio:.2f}x (target <= {target}x: {met}), "
                  f"overhead {(service - direct) * 1000:.0f} ms", flush=True)
            print("    medians: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts.items())
                  + "  (job = worker claim -> completed, incl. fetch/convert/store)", flush=True)
            key = src_fmt + "_" + dst_fmt
            figures[key] = {"direct_ms": round(direct * 1000), "service_ms": round(service * 1000),
                            "ratio": round(ratio, 2), "target": target, "met": ratio <= target,
                            "parts_ms": {k: round(v * 1000) for k, v in parts.items()}}
    result_line("service_overhead", **figures)
    return figures


if __name__ == "__main__":
    main()
