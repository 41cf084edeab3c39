from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.owners import Owner
from conversions import services
from conversions.models import Conversion
from factories import UserFactory, conversion_requested
from storage.models import StoredFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return Owner(user=UserFactory())


@pytest.fixture
def request_jobs(owner, django_capture_on_commit_callbacks):
    """request_jobs(path, target, **options) -> the new conversions, asked for through the service;
    what it enqueues on commit runs (the eager worker, or ``no_worker``'s list)."""

    def ask(path, target, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return conversion_requested(owner, path, target, **options)

    return ask


@pytest.fixture
def pending(request_jobs, sample, no_worker):
    """pending(fmt="png", target="jpg") -> the id of a job left pending (nothing runs it)."""

    def make(fmt="png", target="jpg"):
        return str(request_jobs(sample(fmt), target)[0].pk)

    return make


def test_task_delivered_twice_makes_one_output(pending):
    cid = pending()
    from conversions.tasks import conversion_run

    assert conversion_run.apply(args=[cid]).get() == "completed"
    assert conversion_run.apply(args=[cid]).get() == "skipped"
    assert StoredFile.objects.filter(kind="converted").count() == 1
    assert Conversion.objects.get(pk=cid).attempts == 1


def test_claim_is_exclusive(pending):
    cid = pending()
    assert services.conversion_claim(conversion_id=cid) is True
    assert services.conversion_claim(conversion_id=cid) is False


def test_reaper_requeues_then_fails_stuck_jobs(pending, no_worker, django_capture_on_commit_callbacks):
    cid = pending()
    assert services.conversion_claim(conversion_id=cid)
    # the worker died: lease runs out
    Conversion.objects.filter(pk=cid).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.conversions_reap() == {"requeued": 1, "failed": 0}
    assert [str(x) for x in no_worker] == [cid, cid]  # first enqueue, then the reaper's
    # the re-queued message claims it again and completes
    assert services.conversion_execute(conversion_id=cid) == "completed"

    cid2 = pending()
    Conversion.objects.filter(pk=cid2).update(status="processing", attempts=services.MAX_ATTEMPTS,
                                              lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.conversions_reap() == {"requeued": 0, "failed": 1}
    failed = Conversion.objects.get(pk=cid2)
    assert failed.status == "failed" and failed.error_code == "worker_lost" and failed.error_message


def test_reaper_leaves_healthy_jobs_alone(pending):
    cid = pending()
    services.conversion_claim(conversion_id=cid)
    assert services.conversions_reap() == {"requeued": 0, "failed": 0}
    assert Conversion.objects.get(pk=cid).status == "processing"


def test_cancel_while_processing_drops_the_output(pending, monkeypatch):
    cid = pending()
    original = services._conversion_complete

    def cancel_then_complete(**kwargs):
        Conversion.objects.filter(pk=cid).update(status="cancelled")
        return original(**kwargs)

    monkeypatch.setattr(services, "_conversion_complete", cancel_then_complete)
    assert services.conversion_execute(conversion_id=cid) == "cancelled"
    assert not StoredFile.objects.filter(kind="converted", is_deleted=False).exists()


def test_engine_failure_marks_failed_with_message(pending, monkeypatch):
    from conversions.engines.base import EngineError
    from conversions.engines.pillow import PillowEngine

    def broken(self, *args, **kwargs):
        raise EngineError("Imagen dañada", code="corrupt_input", detail="/tmp/secret path")

    monkeypatch.setattr(PillowEngine, "convert", broken)
    cid = pending()
    assert services.conversion_execute(conversion_id=cid) == "failed"
    conversion = Conversion.objects.get(pk=cid)
    assert conversion.error_message == "Imagen dañada" and conversion.error_code == "corrupt_input"
    assert "/tmp" not in conversion.error_message


def test_completion_event_fires_once(pending):
    from anclora.core import events

    seen = []

    def handler(conversion_id):
        seen.append(conversion_id)

    events.subscribe("conversion_completed", handler)
    try:
        cid = pending()
        services.conversion_execute(conversion_id=cid)
        services.conversion_execute(conversion_id=cid)
    finally:
        events._subscribers["conversion_completed"].remove(handler)
    assert [str(x) for x in seen] == [cid]


def test_quality_recorded_and_changes_output(request_jobs, sample):
    big = sample("png")
    from PIL import Image

    Image.effect_noise((256, 256), 60).convert("RGB").save(big)
    sizes = {}
    for quality in ("basic", "premium"):
        (job,) = request_jobs(big, "jpg", quality=quality)
        conversion = Conversion.objects.select_related("output").get(pk=job.pk)
        assert conversion.status == "completed" and conversion.quality == quality
        sizes[conversion.quality] = conversion.output.size
    assert sizes["premium"] > sizes["basic"]


def test_transient_errors_never_leave_a_job_pending_forever(pending, monkeypatch):
    from storage import services as storage_services

    def flaky(**kwargs):
        raise ConnectionError("storage down")

    monkeypatch.setattr(storage_services, "stored_file_fetch", flaky)
    cid = pending()
    from conversions.tasks import conversion_run

    conversion_run.apply(args=[cid])  # eager: the retries run inline until they give up
    conversion = Conversion.objects.get(pk=cid)
    if conversion.status == "pending":  # retries exhausted: the reaper ends it
        services.conversions_reap()
        conversion.refresh_from_db()
    assert conversion.status == "failed" and conversion.error_code == "too_many_attempts"


def test_engine_subprocess_dies_with_its_parent(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "child.pid"
    script = (
        f"import sys; sys.path.insert(0, {os.getcwd()!r})\n"
        "from pathlib import Path\n"
        "from conversions.engines.process import run\n"
        "import threading, os\n"
        f"run(['sh', '-c', 'echo $$ > {pid_file}; exec sleep 60'], timeout=120, cwd=Path({str(tmp_path)!r}))\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the engine subprocess outlived its killed parent")


def test_a_failing_engine_falls_back_to_the_next_candidate(pending, monkeypatch):
    from conversions.engines.base import EngineError
    from conversions.engines.pillow import PillowEngine
    from conversions.engines.pymupdf import PyMuPDFEngine

    def broken(self, *args, **kwargs):
        raise EngineError("roto", code="conversion_failed", detail="engine bug")

    monkeypatch.setattr(PillowEngine, "convert", broken)  # preferred for png -> pdf
    cid = pending(target="pdf")
    assert services.conversion_execute(conversion_id=cid) == "completed"
    conversion = Conversion.objects.get(pk=cid)
    assert conversion.engine == PyMuPDFEngine.name


def test_an_unsafe_input_is_not_retried_with_another_engine(pending, monkeypatch):
    from conversions.engines.base import UnsafeInput
    from conversions.engines.pillow import PillowEngine
    from conversions.engines.pymupdf import PyMuPDFEngine

    calls = []

    def unsafe(self, *args, **kwargs):
        raise UnsafeInput()

    monkeypatch.setattr(PillowEngine, "convert", unsafe)
    monkeypatch.setattr(PyMuPDFEngine, "convert", lambda self, *a, **k: calls.append(1))
    cid = pending(target="pdf")
    assert services.conversion_execute(conversion_id=cid) == "failed"
    assert calls == [] and Conversion.objects.get(pk=cid).error_code == "unsafe_input"


def test_latin1_text_converts(request_jobs, tmp_path):
    from conversions.tests import enginefiles

    path = tmp_path / "marte.txt"
    path.write_bytes("Marte es el cuarto planeta. Año, señal, corazón, «citas».\n".encode("cp1252") * 20)
    (job,) = request_jobs(path, "pdf")
    conversion = Conversion.objects.select_related("output").get(pk=job.pk)
    assert conversion.status == "completed", conversion.error_message
    from django.core.files.storage import default_storage

    text = enginefiles.read_text_of(Path(default_storage.path(conversion.output.storage_name)), "pdf")
    assert "señal" in text and "corazón" in text
