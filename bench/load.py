"""Load: 100 simulated anonymous users for 2 minutes on loopback against the `make run` stack
(gunicorn gthread, one Celery worker with two processes), then the queue must drain.

Each user, with 1-3 s of think time between actions (a bounded, closed model: at most USERS
requests in flight): uploads a small image (PNG -> JPG) or a small document (DOCX -> PDF, the warm
LibreOffice), polls the status of its jobs, downloads finished outputs and asks for price
estimates. Every request gets a fresh connection, as a browser tab coming back would.

    .venv/bin/python bench/load.py                      # make run's config: SQLite + embedded broker
    .venv/bin/python bench/load.py --config postgres    # Postgres (BENCH_DATABASE_URL) + Redis (BENCH_REDIS_URL)

Reports requests/s, p50/p95/p99 per kind and overall, status codes, 5xx and connection errors,
and the time the queue took to drain after the load stopped. Target: 0 5xx, 0 connection errors,
queue drained. Printed, not asserted. Also the embedded broker's idle cost: CPU of an idle worker
(polling every BROKER_POLLING_INTERVAL) over IDLE_SECONDS, against Redis's blocking reads.

The per-address anonymous limits (sessions per hour, free conversions per month) are lifted for the
run: all simulated users share 127.0.0.1. A user whose session used its free allowance (402) starts
a new anonymous session, as a new visitor would.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import Stack, result_line  # noqa: E402

USERS = 100
SECONDS = 120
THINK = (1.0, 3.0)
IDLE_SECONDS = 15
ACTIONS = {"upload_image": 25, "upload_document": 5, "status": 35, "download": 15, "estimate": 20}
ESTIMATE = json.dumps({"source_format": "docx", "target_format": "pdf", "file_size_mb": 2, "quality": "standard"})


def make_samples(folder: Path) -> dict[str, bytes]:
    from PIL import Image

    from conversions.tests import enginefiles as ef

    folder.mkdir(parents=True, exist_ok=True)
    Image.effect_noise((160, 120), 40).convert("RGB").save(folder / "small.png", "PNG")
    ef.make_office(folder / "small.docx", "docx")
    return {"png": (folder / "small.png").read_bytes(), "docx": (folder / "small.docx").read_bytes()}


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.codes: Counter = Counter()
        self.errors: Counter = Counter()

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples[kind].append(seconds)
            self.codes[status] += 1

    def error(self, kind: str, exc: BaseException) -> None:
        with self.lock:
            self.errors[f"{kind}: {type(exc).__name__}"] += 1


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class User(threading.Thread):
    ACTIONS = ACTIONS  # action -> weight
    UPLOADS = {"upload_image": ("photo.png", "png", "jpg"), "upload_document": ("letter.docx", "docx", "pdf")}

    def __init__(self, stack: Stack, samples: dict[str, bytes], rec: Recorder, deadline: float,
                 seed: int) -> None:
        super().__init__(daemon=True)
        self.stack, self.samples, self.rec, self.deadline = stack, samples, rec, deadline
        self.rng = random.Random(seed)
        self.session = ""
        self.jobs: list[str] = []
        self.owner: dict[str, str] = {}  # id -> the anonymous session that created it
        self.done: dict[str, str] = {}  # id -> download url

    def request(self, kind: str, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, session: str | None = None) -> tuple[int, bytes] | None:
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=60)
        headers = dict(headers or {})
        session = self.session if session is None else session
        if session:
            headers["X-Session-Id"] = session
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.rec.error(kind, exc)
            return None
        finally:
            conn.close()
        self.rec.add(kind, resp.status, time.perf_counter() - started)
        return resp.status, data

    def upload(self, kind: str, name: str, content: bytes, target: str) -> None:
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="target_format"\r\n\r\n{target}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n").encode()
        body += content + f"\r\n--{boundary}--\r\n".encode()
        got = self.request(kind, "POST", "/api/conversion/convert", body,
                           {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        if got is None:
            return
        status, data = got
        if status == 202:
            payload = json.loads(data)
            self.session = payload.get("session_id") or self.session
            for conversion in payload["conversions"]:
                self.jobs.append(conversion["id"])
                self.owner[conversion["id"]] = self.session
        elif status == 402:
            self.session = ""  # this visitor used its free allowance: a new visitor comes

    def status(self) -> None:
        pending = [j for j in self.jobs if j not in self.done]
        if not pending:
            return self.estimate()
        cid = self.rng.choice(pending)
        got = self.request("status", "GET", f"/api/conversion/{cid}", session=self.owner[cid])
        if got and got[0] == 200:
            detail = json.loads(got[1])
            if detail["status"] == "completed":
                self.done[cid] = detail["download_url"]
                self.owner[detail["download_url"]] = self.owner[cid]
            elif detail["status"] not in ("pending", "processing"):
                self.done[cid] = ""
        return None

    def download(self) -> None:
        ready = [url for url in self.done.values() if url]
        if not ready:
            return self.status()
        url = self.rng.choice(ready)
        parts = urlsplit(url)  # absolute or not: the path (and query) on this server
        self.request("download", "GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                     session=self.owner[url])
        return None

    def estimate(self) -> None:
        self.request("estimate", "POST", "/api/payments/estimate", ESTIMATE.encode(),
                     {"Content-Type": "application/json"})

    def run(self) -> None:
        time.sleep(self.rng.uniform(0, THINK[1]))  # users arrive spread over the first seconds
        while time.monotonic() < self.deadline:
            action = self.rng.choices(list(self.ACTIONS), weights=list(self.ACTIONS.values()))[0]
            if action in self.UPLOADS:
                name, sample, target = self.UPLOADS[action]
                self.upload(action, name, self.samples[sample], target)
            else:
                getattr(self, action)()
            time.sleep(self.rng.uniform(*THINK))  # think time: the load model, not synchronisation


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live children (the prefork pool), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(x) for x in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", choices=["embedded", "postgres"], default="embedded")
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    extra = {"ANONYMOUS_SESSIONS_PER_ADDRESS_HOUR": "1000000", "ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS": "1000000"}
    database_url = ""
    if args.config == "postgres":
        database_url = os.environ.get("BENCH_DATABASE_URL", "")
        redis_url = os.environ.get("BENCH_REDIS_URL", "")
        if not database_url or not redis_url:
            raise SystemExit("--config postgres needs BENCH_DATABASE_URL (a dedicated, migrated database) and "
                             "BENCH_REDIS_URL (its database BENCH_REDIS_DB, default 6, is flushed)")
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    with Stack(web_server="gunicorn", database_url=database_url, extra_env=extra) as stack:
        samples = make_samples(stack.tmp / "samples")
        worker = stack.start_worker(concurrency=2)
        before, t0 = cpu_seconds(worker.pid), time.monotonic()
        time.sleep(IDLE_SECONDS)  # an idle worker: what waiting for work costs on this broker
        idle_cpu = (cpu_seconds(worker.pid) - before) / (time.monotonic() - t0) * 100
        db = "postgres" if database_url else "sqlite"
        print(f"load: {args.users} users x {args.seconds:.0f} s, gunicorn gthread ({os.cpu_count()} workers x 8 "
              f"threads), 1 worker x 2 processes, broker {stack.broker}, database {db}; idle worker CPU "
              f"{idle_cpu:.1f} % of a core; load average {os.getloadavg()[0]:.2f}", flush=True)
        rec = Recorder()
        since = datetime.now(UTC).isoformat()
        started = time.monotonic()
        deadline = started + args.seconds
        users = [User(stack, samples, rec, deadline, seed=i) for i in range(args.users)]
        for user in users:
            user.start()
        for user in users:
            user.join(args.seconds + 120)
        elapsed = time.monotonic() - started
        drained_s, final = drain_all(stack, since)
    every = [s for values in rec.samples.values() for s in values]
    total = len(every)
    figures = {
        "config": f"{stack.broker}+{db}", "users": args.users, "seconds": round(elapsed),
        "requests": total, "rps": round(total / elapsed, 1),
        "p50_ms": round(pct(every, 50) * 1000), "p95_ms": round(pct(every, 95) * 1000),
        "p99_ms": round(pct(every, 99) * 1000),
        "codes": {str(k): v for k, v in sorted(rec.codes.items())},
        "http_5xx": sum(v for k, v in rec.codes.items() if k >= 500),
        "connection_errors": sum(rec.errors.values()), "errors": dict(rec.errors),
        "jobs": sum(len(u.jobs) for u in users), "drain_s": round(drained_s, 1), "final": dict(final),
        "idle_worker_cpu_pct": round(idle_cpu, 1),
        "per_kind": {k: {"n": len(v), "p50_ms": round(pct(v, 50) * 1000), "p95_ms": round(pct(v, 95) * 1000),
                         "p99_ms": round(pct(v, 99) * 1000)} for k, v in sorted(rec.samples.items())},
    }
    figures["met"] = (figures["http_5xx"] == 0 and figures["connection_errors"] == 0
                      and final.get("still running", 0) == 0)
    print(f"  {total} requests in {elapsed:.0f} s = {figures['rps']} req/s; p50 {figures['p50_ms']} ms, "
          f"p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms; codes {figures['codes']}; "
          f"5xx {figures['http_5xx']}, connection errors {figures['connection_errors']} {dict(rec.errors)}", flush=True)
    for kind, row in figures["per_kind"].items():
        print(f"    {kind:16} n={row['n']:5}  p50 {row['p50_ms']:5} ms  p95 {row['p95_ms']:5} ms  "
              f"p99 {row['p99_ms']:5} ms", flush=True)
    print(f"  {figures['jobs']} jobs; queue drained {drained_s:.1f} s after the load stopped: {dict(final)}",
          flush=True)
    result_line(f"load_{args.config}", **figures)
    return figures


def drain_all(stack: Stack, since: str) -> tuple[float, Counter]:
    """Final states of the jobs this run created (from ``since``, ISO time), read from the stack's
    database (the users' sessions rotate), once none is pending or processing (10 minutes at most)."""
    code = ("from conversions.models import Conversion; import json, time;"
            f"jobs = Conversion.objects.filter(created_at__gte={since!r}); t = time.monotonic();\n"
            "while jobs.filter(status__in=['pending', 'processing']).exists() "
            "and time.monotonic() - t < 600: time.sleep(0.5)\n"
            "from django.db.models import Count;"
            "print(json.dumps({'s': time.monotonic() - t, 'final': {r['status']: r['n'] for r in "
            "jobs.values('status').annotate(n=Count('id'))}}))")
    out = json.loads(stack.manage("shell", "-c", code, timeout=700).strip().splitlines()[-1])
    final = Counter(out["final"])
    final["still running"] = final.pop("pending", 0) + final.pop("processing", 0)
    return out["s"], final


if __name__ == "__main__":
    main()
