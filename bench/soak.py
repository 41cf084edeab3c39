"""Soak: mixed load for 30 minutes on the `make run` stack, with slow clients; every process's memory
sampled all along, and it must stay flat.

The load is `load.py`'s simulated anonymous users (image and document uploads, status polls,
downloads, price estimates) plus short audio and video jobs, and, all along, the clients issue 24
is about: a tus PATCH that trickles its body one byte a second and then drops, and URL imports from a
local server that trickles its answer. Everything binds 127.0.0.1.

    .venv/bin/python bench/soak.py                    # 30 minutes, 60 users
    .venv/bin/python bench/soak.py --minutes 5        # a short run

Every SAMPLE_SECONDS the resident memory (VmRSS) of every process of the stack is read from /proc,
summed per role (web: the gunicorn master and its workers; worker: the conversion worker and its
pool, converters included; remote: the worker of the remote queue, when the settings route tasks
there). "Flat" compares the median of the last quarter of the run with the median of the second
quarter (the first quarter is warm-up: caches, the warm LibreOffice, the pool): growth below
FLAT_PCT % or FLAT_MB MB. Prints the figures and a RESULT line; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, result_line  # noqa: E402
from load import Recorder, User, drain_all, make_samples, pct  # noqa: E402

USERS = 60
MINUTES = 30.0
SAMPLE_SECONDS = 10
FLAT_PCT = 10.0
FLAT_MB = 40.0
SLOW_EVERY = (20.0, 40.0)  # seconds between two slow clients of each kind
TRICKLE_BYTES = 20  # a trickling PATCH sends this many bytes, one a second, then drops


def media_samples(folder: Path) -> dict[str, bytes]:
    from conversions.tests import enginefiles as ef

    ef.make_wav(folder / "clip.wav", seconds=3.0)
    ef.make_video(folder / "clip.mp4", "mp4", seconds=2.0)
    return {"wav": (folder / "clip.wav").read_bytes(), "mp4": (folder / "clip.mp4").read_bytes()}


class KindRecorder(Recorder):
    """Also counts status codes per kind of request."""

    def __init__(self) -> None:
        super().__init__()
        self.by_kind: dict[str, dict[int, int]] = {}

    def add(self, kind: str, status: int, seconds: float) -> None:
        super().add(kind, status, seconds)
        with self.lock:
            row = self.by_kind.setdefault(kind, {})
            row[status] = row.get(status, 0) + 1


class SoakUser(User):
    """load.py's user with audio and video jobs in the mix."""

    ACTIONS = {"upload_image": 20, "upload_document": 5, "upload_audio": 4, "upload_video": 2, "status": 34,
               "download": 15, "estimate": 20}
    UPLOADS = {**User.UPLOADS, "upload_audio": ("clip.wav", "wav", "mp3"), "upload_video": ("clip.mp4", "mp4", "webm")}


class TricklingSource(BaseHTTPRequestHandler):
    """A remote server that answers a URL import one header byte at a time, then a slow body."""

    body = b""

    def do_GET(self):  # noqa: N802 (http.server's name)
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len(self.body)}\r\n"
                "Connection: close\r\n\r\n").encode()
        try:
            for i in range(len(head)):
                self.wfile.write(head[i:i + 1])
                self.wfile.flush()
                time.sleep(0.5)  # the load model: a slow remote server
            self.wfile.write(self.body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


def slow_tus_client(stack: Stack, rec: Recorder, deadline: float, rng: random.Random) -> None:
    """Creates a tus upload, trickles TRICKLE_BYTES of its PATCH one a second, drops the connection."""
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(*SLOW_EVERY))
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
        try:
            conn.request("POST", "/api/uploads/", headers={
                "Tus-Resumable": "1.0.0", "Upload-Length": "1000",
                "Upload-Metadata": "filename cGhvdG8ucG5n"})
            resp = conn.getresponse()
            body = resp.read()
            rec.add("slow_tus_create", resp.status, 0.0)
            if resp.status != 201:
                continue
            created = json.loads(body)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            rec.error("slow_tus_create", exc)
            continue
        finally:
            conn.close()
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", stack.port), timeout=60) as sock:
                sock.sendall((f"PATCH {created['upload_url']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nX-Session-Id: {created['session_id']}\r\n"
                              "Content-Type: application/offset+octet-stream\r\nContent-Length: 1000\r\n\r\n"
                              ).encode())
                for _ in range(TRICKLE_BYTES):
                    sock.sendall(b"x")
                    time.sleep(1.0)  # the load model: one byte a second
            rec.add("slow_tus_patch_dropped", 0, 0.0)  # the client gave up first
        except OSError:  # the server ended the body below WEB_BODY_MIN_RATE (the next send breaks)
            rec.add("slow_tus_patch_cut", 0, time.monotonic() - started)
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
        try:  # the client gives up (tus termination), or the open-upload caps would refuse the next ones
            conn.request("DELETE", created["upload_url"], headers={
                "Tus-Resumable": "1.0.0", "X-Session-Id": created["session_id"]})
            resp = conn.getresponse()
            resp.read()
            rec.add("slow_tus_delete", resp.status, 0.0)
        except (OSError, http.client.HTTPException) as exc:
            rec.error("slow_tus_delete", exc)
        finally:
            conn.close()


def slow_import_client(stack: Stack, rec: Recorder, deadline: float, rng: random.Random, source: str) -> None:
    """Asks for URL imports from the trickling source (they fail at the import deadline or finish)."""
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(*SLOW_EVERY))
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
        started = time.perf_counter()
        try:
            form = urlencode({"source_url": source, "target_format": "jpg"})
            conn.request("POST", "/api/conversion/convert", body=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            resp = conn.getresponse()
            resp.read()
            rec.add("slow_import", resp.status, time.perf_counter() - started)
        except (OSError, http.client.HTTPException) as exc:
            rec.error("slow_import", exc)
        finally:
            conn.close()


def tree(pid: int) -> list[int]:
    """A process and all its descendants, from /proc/<pid>/task/*/children."""
    seen, todo = [], [pid]
    while todo:
        current = todo.pop()
        seen.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(x) for x in (task / "children").read_text().split())
            except (OSError, ValueError):
                pass
    return seen


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def sampler(roles: dict[str, int], stop: threading.Event, out: dict[str, list[tuple[float, float, int]]]) -> None:
    started = time.monotonic()
    while not stop.is_set():
        for role, pid in roles.items():
            pids = tree(pid)
            out[role].append((time.monotonic() - started, rss_mb(pids), len(pids)))
        stop.wait(SAMPLE_SECONDS)


def flatness(samples: list[tuple[float, float, int]]) -> dict:
    values = [mb for _t, mb, _n in samples]
    quarter = max(1, len(values) // 4)
    early = statistics.median(values[quarter:2 * quarter] or values)
    late = statistics.median(values[-quarter:])
    growth = late - early
    return {"early_mb": round(early, 1), "late_mb": round(late, 1), "peak_mb": round(max(values), 1),
            "growth_mb": round(growth, 1), "growth_pct": round(growth / early * 100, 1) if early else 0.0,
            "flat": growth < FLAT_MB or (early and growth / early * 100 < FLAT_PCT)}


def failure_reasons(stack: Stack, since: str) -> dict[str, int]:
    """Failed jobs of this run by (target format, error code)."""
    code = ("from conversions.models import Conversion; from django.db.models import Count; import json;"
            f"rows = Conversion.objects.filter(created_at__gte={since!r}, status='failed')"
            ".values('target_format', 'error_code').annotate(n=Count('id'));"
            "print(json.dumps({f\"{r['target_format']}:{r['error_code']}\": r['n'] for r in rows}))")
    return json.loads(stack.manage("shell", "-c", code).strip().splitlines()[-1])


def remote_queue(stack: Stack) -> str:
    """The queue URL imports and webhook deliveries are routed to, if not the default one."""
    code = ("from django.conf import settings; import json;"
            "r = settings.CELERY_TASK_ROUTES; print(json.dumps(sorted({v.get('queue') for v in r.values()})))")
    queues = json.loads(stack.manage("shell", "-c", code).strip().splitlines()[-1])
    return next((q for q in queues if q and q not in ("priority", "default")), "")


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--minutes", type=float, default=MINUTES)
    args = parser.parse_args()
    seconds = args.minutes * 60
    os.environ.pop("REDIS_URL", None)
    extra = {"ANONYMOUS_SESSIONS_PER_ADDRESS_HOUR": "1000000", "ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS": "1000000",
             "URL_IMPORT_ALLOW_PRIVATE": "true", "URL_IMPORT_TIMEOUT": "5"}
    source_server = ThreadingHTTPServer(("127.0.0.1", 0), TricklingSource)
    threading.Thread(target=source_server.serve_forever, daemon=True).start()
    with Stack(web_server="gunicorn", extra_env=extra) as stack:
        samples = {**make_samples(stack.tmp / "samples"), **media_samples(stack.tmp / "samples")}
        TricklingSource.body = samples["png"]
        worker = stack.start_worker(concurrency=2, name="worker")
        roles = {"web": stack.web_proc.pid, "worker": worker.pid}
        queue = remote_queue(stack)
        if queue:
            roles["remote"] = stack.start_worker(concurrency=2, name="remote", queues=queue).pid
        source = f"http://127.0.0.1:{source_server.server_address[1]}/photo.png"
        print(f"soak: {args.users} users x {args.minutes:.0f} min + slow tus PATCHes and trickling URL imports; "
              f"gunicorn (anclora.web_worker), worker x2{', remote worker x2 (queue ' + queue + ')' if queue else ''}; "
              f"memory sampled every {SAMPLE_SECONDS} s", flush=True)
        rec = KindRecorder()
        since = datetime.now(UTC).isoformat()
        started = time.monotonic()
        deadline = started + seconds
        memory: dict[str, list] = {role: [] for role in roles}
        stop = threading.Event()
        watcher = threading.Thread(target=sampler, args=(roles, stop, memory), daemon=True)
        watcher.start()
        threads = [SoakUser(stack, samples, rec, deadline, seed=i) for i in range(args.users)]
        threads += [threading.Thread(target=slow_tus_client, args=(stack, rec, deadline, random.Random(7)),
                                     daemon=True),
                    threading.Thread(target=slow_import_client,
                                     args=(stack, rec, deadline, random.Random(8), source), daemon=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 180)
        elapsed = time.monotonic() - started
        drained_s, final = drain_all(stack, since)
        failures = failure_reasons(stack, since)
        stop.set()
        watcher.join()
        logs = Path(__file__).resolve().parent.parent / "var" / "bench-logs" / f"soak-{int(time.time())}"
        logs.mkdir(parents=True, exist_ok=True)
        for log in stack.tmp.glob("*.log"):
            shutil.copyfile(log, logs / log.name)
    source_server.shutdown()
    fast = [s for kind, values in rec.samples.items() if not kind.startswith("slow_") for s in values]
    figures = {
        "users": args.users, "seconds": round(elapsed), "requests": sum(rec.codes.values()),
        "p50_ms": round(pct(fast, 50) * 1000), "p95_ms": round(pct(fast, 95) * 1000),
        "p99_ms": round(pct(fast, 99) * 1000),
        "codes": {str(k): v for k, v in sorted(rec.codes.items())},
        "http_5xx": sum(v for k, v in rec.codes.items() if k >= 500),
        "connection_errors": sum(rec.errors.values()), "errors": dict(rec.errors),
        "codes_by_kind": {kind: {str(k): v for k, v in sorted(row.items())} for kind, row in rec.by_kind.items()},
        "logs": str(logs),
        "jobs": sum(len(getattr(t, "jobs", [])) for t in threads), "drain_s": round(drained_s, 1),
        "final": dict(final), "failures": failures,
        "memory": {role: flatness(values) for role, values in memory.items() if values},
    }
    figures["met"] = (figures["http_5xx"] == 0 and all(m["flat"] for m in figures["memory"].values())
                      and final.get("still running", 0) == 0)
    print(f"  {figures['requests']} requests in {elapsed:.0f} s; p50 {figures['p50_ms']} ms, "
          f"p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms (slow clients excluded); codes {figures['codes']}; "
          f"5xx {figures['http_5xx']}; "
          f"connection errors {figures['connection_errors']} {dict(rec.errors)}", flush=True)
    print(f"  per kind: {figures['codes_by_kind']}; logs kept in {logs}", flush=True)
    for role, row in figures["memory"].items():
        print(f"    memory {role:7} second quarter {row['early_mb']:7.1f} MB, last quarter {row['late_mb']:7.1f} MB, "
              f"peak {row['peak_mb']:7.1f} MB, growth {row['growth_mb']:+.1f} MB ({row['growth_pct']:+.1f} %): "
              f"{'flat' if row['flat'] else 'GROWING'}", flush=True)
    print(f"  {figures['jobs']} jobs; queue drained {drained_s:.1f} s after the load stopped: {dict(final)}; "
          f"failed by target and code: {failures}", flush=True)
    result_line("soak", **figures)
    return figures


if __name__ == "__main__":
    main()
