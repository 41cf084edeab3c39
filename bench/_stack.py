"""Shared helpers for the benchmarks: a throw-away stack (web + workers) and a tiny HTTP client.

The stack lives in a temporary VAR_DIR with the embedded defaults: SQLite and the SQLAlchemy
broker, or Redis (a dedicated database, flushed) when REDIS_URL is set. Everything binds
127.0.0.1; every process runs in its own process group and is killed on exit.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
CELERY = PYTHON.with_name("celery")
BENCH_REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "6"))  # flushed before and after when REDIS_URL is set

if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through Stack.__exit__: processes and temp dir go


signal.signal(signal.SIGTERM, _exit_on_sigterm)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "<no log>"


class Stack:
    """Context manager: temp VAR_DIR, migrated database, web server, workers on demand."""

    def __init__(self, *, extra_env: dict[str, str] | None = None, web: bool = True,
                 web_server: str = "runserver", database_url: str = "") -> None:
        """``web_server``: "runserver" or "gunicorn" (as `make run` serves: gthread, one worker per
        core); ``database_url``: a dedicated database instead of the temporary SQLite file."""
        self.web_server = web_server
        self.tmp = Path(tempfile.mkdtemp(prefix="anclora-bench-"))
        self.procs: list[tuple[str, subprocess.Popen, Path]] = []
        self.port = free_port()
        self.web = web
        self.web_proc: subprocess.Popen | None = None
        self.redis_url = ""
        env = {k: v for k, v in os.environ.items()
               if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "STORAGE", "REDIS_URL",
                            "MEDIA_ROOT", "STATIC_ROOT", "LOG_FILE"}}
        env.update({
            "DJANGO_SETTINGS_MODULE": "anclora.settings.base",
            "VAR_DIR": str(self.tmp / "var"),
            "TMPDIR": str(self.tmp / "tmp"),
            "PYTHONPATH": str(BASE_DIR),
            "PYTHONUNBUFFERED": "1",
        })
        if os.environ.get("REDIS_URL"):
            parts = urlsplit(os.environ["REDIS_URL"])
            self.redis_url = urlunsplit((parts.scheme, parts.netloc, f"/{BENCH_REDIS_DB}", "", ""))
            env["REDIS_URL"] = self.redis_url
        if database_url:
            env["DATABASE_URL"] = database_url
        env.update(extra_env or {})
        (self.tmp / "tmp").mkdir()
        self.env = env

    @property
    def broker(self) -> str:
        return "redis" if self.redis_url else "sqlalchemy+sqlite"

    # -- lifecycle ---------------------------------------------------------------
    def __enter__(self) -> Stack:
        try:
            self._flush_redis()
            self._migrate()
            self.manage("seed")
            if self.web:
                self.start_web()
        except BaseException:
            self.close()
            raise
        return self

    def _migrate(self) -> None:
        """A fresh SQLite file starts from a migrated copy kept per set of migrations (var/bench-cache/):
        dj-stripe's migrations alone take minutes, every benchmark's stack would pay them."""
        if "DATABASE_URL" in self.env:
            self.manage("migrate", "--noinput")
            return
        import hashlib

        digest = hashlib.sha256()
        for path in sorted(BASE_DIR.glob("*/migrations/*.py")):
            digest.update(path.name.encode() + path.read_bytes())
        cache = BASE_DIR / "var" / "bench-cache" / f"migrated-{digest.hexdigest()[:16]}.sqlite3"
        target = Path(self.env["VAR_DIR"]) / "anclora.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        if cache.exists():
            shutil.copyfile(cache, target)
        self.manage("migrate", "--noinput", timeout=1200)  # a no-op on the copy
        if not cache.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            self.manage("shell", "-c", f"from django.db import connection; connection.cursor().execute("
                                       f"\"VACUUM INTO '{cache}.tmp'\")")
            os.replace(f"{cache}.tmp", cache)

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for _name, proc, _log in reversed(self.procs):
            self._stop(proc)
        self.procs.clear()
        self._flush_redis()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _flush_redis(self) -> None:
        if not self.redis_url:
            return
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2)
        client.flushdb()
        client.close()

    @staticmethod
    def _stop(proc: subprocess.Popen, grace: float = 10) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left in the group (pool children, converters) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def manage(self, *args: str, timeout: float = 300) -> str:
        proc = subprocess.run([str(PYTHON), "manage.py", *args], cwd=BASE_DIR, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(args, cwd=BASE_DIR, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, proc, log))
        return proc

    def log_of(self, proc: subprocess.Popen) -> Path:
        return next(log for _n, p, log in self.procs if p is proc)

    def wait_for(self, predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{what}: process exited ({proc.returncode})\n{_tail(self.log_of(proc))}")
            if time.monotonic() >= deadline:
                tail = _tail(self.log_of(proc)) if proc is not None else ""
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")
            time.sleep(0.05)

    def start_web(self) -> subprocess.Popen:
        if self.web_server == "gunicorn":  # the same command line as scripts/run.sh
            proc = self.spawn("web", [str(PYTHON.with_name("gunicorn")), "-c", "anclora/gunicorn_conf.py",
                                      "anclora.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                                      "--workers", str(os.cpu_count() or 2), "--threads", "8",
                                      "--timeout", "300", "--graceful-timeout", "5", "--backlog", "2048"])
        else:
            proc = self.spawn("web", [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{self.port}",
                                      "--noreload"])
        self.web_proc = proc

        def up():
            try:
                return self.request("GET", "/api/conversion/supported-formats")[0] == 200
            except OSError:
                return False

        self.wait_for(up, 60, "the web server", proc)
        return proc

    def start_worker(self, concurrency: int = 1, name: str | None = None,
                     queues: str = "priority,default") -> subprocess.Popen:
        name = name or f"worker-{uuid.uuid4().hex[:6]}"
        proc = self.spawn(name, [str(CELERY), "-A", "anclora", "worker", "-Q", queues,
                                 "--concurrency", str(concurrency), "--pool", "prefork",
                                 "--loglevel", "INFO", "--hostname", f"{name}@%h",
                                 "--without-gossip", "--without-mingle"])
        log = self.log_of(proc)
        self.wait_for(lambda: " ready." in _tail(log, 100_000), 60, f"worker {name}", proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        self._stop(proc)

    def user_token(self, plan: str = "enterprise") -> str:
        """A new account on ``plan``; returns a JWT access token for it."""
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        code = (
            "from accounts import services as s; from accounts.models import SubscriptionPlan;"
            "from rest_framework_simplejwt.tokens import RefreshToken;"
            f"u = s.user_create(email={email!r}, password='Bench-Pass-123!');"
            f"s.subscription_start(user=u, plan=SubscriptionPlan.objects.get(slug={plan!r}));"
            "print(RefreshToken.for_user(u).access_token)"
        )
        return self.manage("shell", "-c", code).strip().splitlines()[-1]

    # -- HTTP ---------------------------------------------------------------------
    def connection(self, timeout: float = 600) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, *, query: dict | None = None, token: str = "",
                timeout: float = 60) -> tuple[int, bytes]:
        conn = self.connection(timeout)
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            conn.request(method, path + ("?" + urlencode(query) if query else ""), headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def upload(self, path: Path, target: str, *, token: str = "", session_id: str = "",
               name: str | None = None) -> tuple[int, dict]:
        """POST /api/conversion/convert as multipart, streaming the file from disk."""
        boundary = f"----anclora-bench-{uuid.uuid4().hex}"
        fields = {"target_format": target}
        if session_id:
            fields["session_id"] = session_id
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{name or path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        length = len(head) + path.stat().st_size + len(tail)
        conn = self.connection()
        try:
            conn.putrequest("POST", "/api/conversion/convert")
            conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            conn.putheader("Content-Length", str(length))
            if token:
                conn.putheader("Authorization", f"Bearer {token}")
            conn.endheaders()
            conn.send(head)
            with open(path, "rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    conn.send(chunk)
            conn.send(tail)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(body)
        except ValueError:
            return resp.status, {"raw": body[:500].decode(errors="replace")}

    def conversion(self, cid: str, *, token: str = "", session_id: str = "") -> dict:
        status, body = self.request("GET", f"/api/conversion/{cid}", token=token,
                                    query={"session_id": session_id} if session_id else None)
        if status != 200:
            raise RuntimeError(f"GET conversion {cid}: {status} {body[:300]!r}")
        return json.loads(body)

    def download(self, url: str, *, token: str = "", session_id: str = "") -> int:
        """GET the output and read it fully; returns the byte count."""
        conn = self.connection()
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            query = "?" + urlencode({"session_id": session_id}) if session_id else ""
            conn.request("GET", url + query, headers=headers)
            resp = conn.getresponse()
            size = 0
            while chunk := resp.read(1024 * 1024):
                size += len(chunk)
            if resp.status != 200:
                raise RuntimeError(f"download {url}: {resp.status}")
            return size
        finally:
            conn.close()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (kB) of a process, from /proc (no psutil)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def result_line(name: str, **figures) -> None:
    """The machine-readable line bench/run_all.py collects."""
    print("RESULT " + json.dumps({"bench": name, **figures}), flush=True)
