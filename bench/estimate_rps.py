"""POST /api/payments/estimate requests per second under gunicorn (2 workers, 127.0.0.1),
as a ratio to a bare DRF view returning a constant on the same server. Target: ratio >= 0.8.

Usage: .venv/bin/python bench/estimate_rps.py [--seconds 5] [--clients 4]
Runs in a temporary VAR_DIR (fresh SQLite database, migrated), or on DATABASE_URL if set.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
BODY = json.dumps({"source_format": "pdf", "target_format": "docx", "file_size_mb": 15, "quality": "high"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(port: int, path: str, seconds: float, queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done = errors = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.request("POST", path, body=BODY, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            done += 1
        else:
            errors += 1
    queue.put((done, errors))


def measure(port: int, path: str, seconds: float, clients: int) -> float:
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_client, args=(port, path, seconds, queue)) for _ in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    if errors:
        raise SystemExit(f"{path}: {errors} non-200 responses")
    return done / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="anclora-bench-estimate-"))
    env = {**os.environ, "VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "bench.estimate_settings",
           "PYTHONPATH": str(BASE_DIR), "LOG_LEVEL": "WARNING"}
    server = None
    try:
        subprocess.run([str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env,
                       check=True)
        subprocess.run([str(PYTHON), "manage.py", "seed"], cwd=BASE_DIR, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen([str(PYTHON.with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{port}",
                                   "--log-level", "warning", "anclora.wsgi"], cwd=BASE_DIR, env=env,
                                  start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        measure(port, "/api/payments/estimate", 1.0, args.clients)  # warm up both workers
        measure(port, "/bench/constant", 1.0, args.clients)
        constant = measure(port, "/bench/constant", args.seconds, args.clients)
        estimate = measure(port, "/api/payments/estimate", args.seconds, args.clients)
        ratio = estimate / constant
        print(f"bare DRF constant view: {constant:8.1f} req/s")
        print(f"POST /api/payments/estimate: {estimate:8.1f} req/s")
        print(f"ratio: {ratio:.2f} (target >= 0.80) {'OK' if ratio >= 0.8 else 'BELOW TARGET'}")
        return 0
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
