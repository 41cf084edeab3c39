"""Real Celery worker processes, a real Redis broker and the shared (Postgres) test database.

The test process publishes to Redis (eager mode switched off for the test) and the workers
are separate `celery worker` processes reading the same database and media directory. Every
wait polls the database (or the worker log) against a deadline; teardown SIGKILLs every
worker process group even when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from conversions import services
from conversions.models import Conversion
from factories import upload
from storage.models import StoredFile

from . import enginefiles

# One xdist worker runs this whole module (`--dist loadgroup`): the tests flush and share one broker db.
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("celery_broker")]

BASE_DIR = Path(settings.BASE_DIR)
CELERY = Path(sys.executable).with_name("celery")
# A dedicated Redis database, flushed before and after each test: 8 above the run's own (REDIS_URL), so two
# runs on different databases never share a broker.
BROKER_DB_OFFSET = 8
POLL = 0.1  # polling interval of the deadline loops (not a synchronisation sleep)
# The worker's own limits. The hard/soft limits enforced on a task come from the message
# headers (set by the publisher, here the test process); the lease comes from these.
WORKER_LIMITS = {"CONVERSION_HARD_TIME_LIMIT": "60", "CONVERSION_SOFT_TIME_LIMIT": "50",
                 "CONVERSION_ENGINE_TIME_LIMIT": "45"}


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth + '@' if auth else ''}{host}{port}/{quote(db['NAME'], safe='')}"


def _reset_producer_pools(app) -> None:
    """Close pooled broker connections so the next publish uses app.conf.broker_url."""
    from kombu import pools

    pools.reset()  # closes and forgets every pooled connection/producer of this process
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def shared_db(transactional_db) -> str:
    """DATABASE_URL of this test's database, visible to other processes (rows are committed)."""
    if connection.vendor == "sqlite":
        pytest.skip("needs a shared database (Postgres); the SQLite test database is in memory")
    if connection.vendor != "postgresql":
        pytest.skip(f"worker integration tests support Postgres only, not {connection.vendor}")
    return _database_url()


@pytest.fixture
def broker(redis_url):
    """The real broker (a dedicated Redis db) for this process and the workers; no eager mode."""
    import redis

    from anclora.celery import app

    parts = urlsplit(redis_url)
    own_db = int(parts.path.strip("/") or 0)
    # under pytest-xdist each worker (gw0, gw1, ...) runs these tests at the same time: one broker db each
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    url = urlunsplit((parts.scheme, parts.netloc, f"/{(own_db + BROKER_DB_OFFSET + index) % 16}", parts.query,
                      parts.fragment))
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    client.flushdb()
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.task_always_eager = False
    app.conf.broker_url = url
    _reset_producer_pools(app)
    try:
        yield url
    finally:
        app.conf.update(saved)
        _reset_producer_pools(app)
        client.flushdb()
        client.close()


def _tail(path: Path, chars: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "<no log>"


def _kill_stray(marker: str) -> None:
    """SIGKILL processes whose command line mentions our private temp dir.

    Converters run in their own session (engines/process.py), so killing a worker's process
    group does not reach an ffmpeg it started; those carry the job workdir in their args.
    """
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


class Worker:
    def __init__(self, proc: subprocess.Popen, log: Path, name: str):
        self.proc, self.log, self.name = proc, log, name

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (main process and pool children)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def read_log(self) -> str:
        return _tail(self.log, 200_000)


@pytest.fixture
def workers(shared_db, broker, settings, tmp_path):
    """start(concurrency=1, queues="priority,default", extra_env=None) -> a running `celery worker` on the
    test database and broker."""
    started: list[Worker] = []
    job_tmp = tmp_path / f"worker-tmp-{uuid.uuid4().hex[:8]}"
    job_tmp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "CACHE_URL", "STORAGE", "DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(WORKER_LIMITS)
    env.update({
        "DJANGO_SETTINGS_MODULE": "anclora.settings.base",
        "DATABASE_URL": shared_db,
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": "locmemcache://",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VAR_DIR": str(tmp_path / "worker-var"),
        "TMPDIR": str(job_tmp),  # job workdirs (and converter args) live here
        "PYTHONPATH": str(BASE_DIR),
        "PYTHONUNBUFFERED": "1",
    })

    def start(concurrency: int = 1, ready_timeout: float = 45, queues: str = "priority,default",
              extra_env: dict[str, str] | None = None) -> Worker:
        name = f"itest{len(started)}-{uuid.uuid4().hex[:6]}@%h"
        log = tmp_path / f"worker{len(started)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(CELERY), "-A", "anclora", "worker", "-Q", queues,
                 "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "INFO",
                 "--hostname", name, "--without-gossip", "--without-mingle"],
                cwd=BASE_DIR, env={**env, **(extra_env or {})}, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        worker = Worker(proc, log, name)
        started.append(worker)
        wait_for(lambda: " ready." in worker.read_log() or proc.poll() is not None,
                 ready_timeout, f"worker {name} to be ready", worker)
        if proc.poll() is not None:
            pytest.fail(f"worker exited with {proc.returncode}:\n{_tail(log)}")
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.kill()
        _kill_stray(str(job_tmp))


def wait_for(predicate, timeout: float, what: str, *workers: Worker):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            logs = "\n".join(f"--- {w.name} log tail ---\n{_tail(w.log)}" for w in workers)
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")
        time.sleep(POLL)


def _row(cid) -> Conversion:
    return Conversion.objects.get(pk=cid)


def _status(cid) -> str:
    return Conversion.objects.values_list("status", flat=True).get(pk=cid)


def _finished(cid):
    status = _status(cid)
    return status if status not in Conversion.ACTIVE_STATUSES else None


def _converted(cid):
    return StoredFile.objects.filter(kind=StoredFile.Kind.CONVERTED, conversions_as_output__pk=cid)


def test_worker_converts_end_to_end(api_client, sample, workers):
    worker = workers(concurrency=1)
    resp = upload(api_client, [sample("png")], "jpg")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    conv, session_id = body["conversions"][0], body["session_id"]
    assert conv["status"] == "pending"  # not run in-process: eager mode is off

    final = wait_for(lambda: _finished(conv["id"]), 60, "the conversion to finish", worker)
    row = _row(conv["id"])
    assert final == "completed", (row.error_code, row.error_message, _tail(worker.log))
    assert row.attempts == 1 and row.progress == 100 and row.engine == "pillow"
    assert Path(settings.MEDIA_ROOT, row.output.storage_name).is_file()

    detail = api_client.get(conv["status_url"], {"session_id": session_id}).json()
    assert detail["status"] == "completed" and detail["download_url"]
    download = api_client.get(detail["download_url"], {"session_id": session_id})
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\xff\xd8\xff")  # JPEG


def test_job_of_a_killed_worker_is_reaped_and_completed_once(api_client, tmp_path, workers):
    first = workers(concurrency=1)
    # 60 s of audio -> MP4 with a waveform picture: several seconds of ffmpeg work.
    wav = enginefiles.make_wav(tmp_path / "long.wav", seconds=60)
    resp = upload(api_client, [wav], "mp4")
    assert resp.status_code == 202, resp.content
    cid = resp.json()["conversions"][0]["id"]

    # Mid-conversion: claimed and ffmpeg already reporting progress.
    wait_for(lambda: Conversion.objects.filter(pk=cid, status="processing", progress__gte=10).exists()
             or _finished(cid), 60, "ffmpeg to report progress", first)
    first.kill()
    row = _row(cid)
    assert row.status == "processing", f"finished before the kill ({row.status}); make the job longer"
    assert row.attempts == 1 and row.output_id is None and not _converted(cid).exists()
    assert row.lease_expires_at > timezone.now()

    # While the lease runs the reaper leaves the job alone (its worker might still be alive).
    assert services.conversions_reap() == {"requeued": 0, "failed": 0}
    # Time passes: the lease runs out (hard limit + 30 s, simulated) and the reaper re-queues it.
    Conversion.objects.filter(pk=cid).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    second = workers(concurrency=1)
    assert services.conversions_reap() == {"requeued": 1, "failed": 0}

    final = wait_for(lambda: _finished(cid), 90, "the re-queued conversion to finish", second)
    row = _row(cid)
    assert final == "completed", (row.error_code, row.error_message, _tail(second.log))
    assert row.attempts == 2 and row.lease_expires_at is None
    outputs = list(_converted(cid))
    assert len(outputs) == 1 and outputs[0].pk == row.output_id
    assert StoredFile.objects.filter(kind=StoredFile.Kind.CONVERTED).count() == 1
    output = Path(settings.MEDIA_ROOT, row.output.storage_name)
    assert output.is_file()
    assert enginefiles.media_duration(output) == pytest.approx(60, abs=1.5)


def test_same_message_delivered_twice_runs_once(api_client, sample, no_worker, workers):
    from conversions.tasks import conversion_run

    resp = upload(api_client, [sample("wav")], "mp3")  # no_worker: the API enqueues nothing
    assert resp.status_code == 202, resp.content
    cid = resp.json()["conversions"][0]["id"]
    worker = workers(concurrency=2)  # both deliveries may run at the same time

    task_id = str(uuid.uuid4())
    for _ in range(2):  # a redelivery carries the same task id
        conversion_run.apply_async(args=[cid], queue="default", task_id=task_id)

    done = re.compile(rf"conversion_run\[{task_id}\] succeeded in [\d.]+s: '(\w+)'")
    results = wait_for(lambda: len(found := done.findall(worker.read_log())) == 2 and found, 60,
                       "both deliveries to be handled", worker)
    assert sorted(results) == ["completed", "skipped"]
    row = _row(cid)
    assert row.status == "completed" and row.attempts == 1
    assert _converted(cid).count() == 1
    assert StoredFile.objects.filter(kind=StoredFile.Kind.CONVERTED).count() == 1


def test_priority_queue_is_drained_first(api_client, sample, workers):
    from rest_framework.test import APIClient

    from accounts import services as account_services
    from accounts.models import SubscriptionPlan

    normal = [upload(api_client, [sample("png")], "jpg").json()["conversions"][0]["id"] for _ in range(4)]
    enterprise = account_services.user_create(email="ent@example.com", password="Secreta123!")
    account_services.subscription_start(user=enterprise, plan=SubscriptionPlan.objects.get(slug="enterprise"))
    vip_client = APIClient()
    vip_client.force_authenticate(enterprise)
    vip = upload(vip_client, [sample("png")], "jpg").json()["conversions"][0]["id"]
    assert _row(vip).priority and not _row(normal[0]).priority

    worker = workers(concurrency=1)  # all five were queued before any worker ran
    wait_for(lambda: all(_finished(cid) for cid in [*normal, vip]), 90, "all conversions", worker)
    order = list(Conversion.objects.filter(pk__in=[*normal, vip]).order_by("started_at")
                 .values_list("pk", flat=True))
    assert str(order[0]) == vip, "the priority job must be taken before the earlier default ones"
