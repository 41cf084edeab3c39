"""Warm LibreOffice listener (office_server): reuse, recycle, crash, hang, orphans, cold fallback.

Only run where LibreOffice and its python bindings (python3-uno) are installed, as in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conversions.detection import detect_format
from conversions.engines import libreoffice, office_server
from conversions.engines.base import ConvertOptions, EngineError, EngineTimeout
from conversions.engines.libreoffice import LibreOfficeEngine
from conversions.tests import enginefiles as ef

ENGINE = LibreOfficeEngine()
CORPUS = Path(os.environ.get("ANCLORA_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not ENGINE.is_available() or office_server.office_python() is None
    or office_server.soffice_bin(libreoffice.soffice_binary()) is None,
    reason="LibreOffice with python3-uno is not installed on this host")


@pytest.fixture
def warm(settings):
    """A fresh listener for the test, none left behind."""
    settings.OFFICE_WARM_ENABLED = True
    settings.OFFICE_WARM_MAX_CONVERSIONS = 50
    office_server.warm_office.shutdown()
    yield office_server.warm_office
    office_server.warm_office.shutdown()


@pytest.fixture
def cold_calls(monkeypatch):
    """Records every cold soffice run (and still runs it)."""
    calls = []
    real = libreoffice.process.run

    def spy(args, **kwargs):
        calls.append(args)
        return real(args, **kwargs)

    monkeypatch.setattr(libreoffice.process, "run", spy)
    return calls


def gone(pid: int, within: float = 15.0) -> bool:
    """Wait (bounded) until ``pid`` no longer runs; a zombie counts as gone."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not office_server._pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def convert(tmp_path: Path, name: str, time_limit: float = 120, src: Path | None = None) -> Path:
    src = src or ef.make_office(tmp_path / f"{name}.docx", "docx")
    out = tmp_path / f"{name}.pdf"
    ENGINE.convert(src, out, "docx", "pdf", ConvertOptions(time_limit=time_limit, workdir=tmp_path / "w"))
    assert detect_format(out) == "pdf"
    return out


def test_warm_conversion_reuses_one_listener(tmp_path, warm, cold_calls):
    out1 = convert(tmp_path, "a")
    first = warm.listener
    assert first is not None and first.alive()
    out2 = convert(tmp_path, "b")
    assert warm.listener is first and warm.listener.soffice_pid == first.soffice_pid
    assert first.conversions == 2
    assert cold_calls == []  # no soffice started per document
    assert ef.MARKER in ef.read_text_of(out1, "pdf") and ef.MARKER in ef.read_text_of(out2, "pdf")


def test_listener_profile_is_the_hardened_one(warm, tmp_path):
    convert(tmp_path, "a")
    xcu = (warm.listener.home / "profile" / "user" / "registrymodifications.xcu").read_text()
    assert "DisableMacrosExecution" in xcu and 'oor:name="Link"' in xcu


def test_recycled_after_n_conversions(tmp_path, warm, settings):
    settings.OFFICE_WARM_MAX_CONVERSIONS = 2
    convert(tmp_path, "a")
    pid = warm.listener.soffice_pid
    convert(tmp_path, "b")
    assert warm.listener.soffice_pid == pid
    convert(tmp_path, "c")
    assert warm.listener.soffice_pid != pid
    assert gone(pid)


def test_listener_crash_mid_conversion_only_costs_that_document(tmp_path, warm, cold_calls):
    convert(tmp_path, "warmup")
    listener = warm.listener
    os.kill(listener.soffice_pid, signal.SIGSTOP)  # it takes the next request and never answers...
    result: dict = {}

    def job():
        try:
            result["out"] = convert(tmp_path, "victim")
        except Exception as exc:  # noqa: BLE001 - the test looks at what the job got
            result["error"] = exc

    worker = threading.Thread(target=job)
    worker.start()
    assert listener.busy.wait(30)  # ...the request is in flight
    os.kill(listener.soffice_pid, signal.SIGKILL)  # and LibreOffice dies mid-way
    worker.join(120)
    assert not worker.is_alive()
    # That job only: converted the cold way (or failed cleanly with an EngineError).
    assert "out" in result or isinstance(result.get("error"), EngineError)
    if "out" in result:
        assert len(cold_calls) == 1
    assert gone(listener.pid)
    convert(tmp_path, "next")
    assert warm.listener is not listener and warm.listener.alive()
    assert warm.listener.soffice_pid != listener.soffice_pid


def test_hung_listener_is_killed_at_the_time_limit(tmp_path, warm):
    convert(tmp_path, "warmup")
    listener = warm.listener
    os.kill(listener.soffice_pid, signal.SIGSTOP)  # hangs
    started = time.monotonic()
    with pytest.raises(EngineTimeout):
        convert(tmp_path, "stuck", time_limit=4)
    assert time.monotonic() - started < 15
    assert gone(listener.soffice_pid) and gone(listener.pid)
    convert(tmp_path, "after")
    assert warm.listener.soffice_pid != listener.soffice_pid


def test_document_the_listener_cannot_load_goes_the_cold_way(tmp_path, warm, cold_calls, monkeypatch):
    convert(tmp_path, "warmup")
    first = warm.listener
    # The listener is handed something it cannot load (it answers load_failed and stays sane);
    # the cold command line converts the real document.
    original = first.convert

    def refusing(src, dst, **kwargs):
        return original(tmp_path / "not-there.docx", dst, **kwargs)

    monkeypatch.setattr(first, "convert", refusing)
    out = convert(tmp_path, "refused")
    assert ef.MARKER in ef.read_text_of(out, "pdf")
    assert len(cold_calls) == 1
    assert warm.listener is None and gone(first.soffice_pid)  # recycled after the failure


@pytest.mark.skipif(not (CORPUS / "documents" / "docx2python_table_image_comments.docx").exists(),
                    reason="shared corpus absent")
def test_docx_with_comments_that_crashes_the_listener_converts_cold(tmp_path, warm, cold_calls):
    """A real file: LibreOffice 7.4 loading it hidden over UNO dies; soffice --convert-to converts."""
    src = tmp_path / "comments.docx"
    src.write_bytes((CORPUS / "documents" / "docx2python_table_image_comments.docx").read_bytes())
    convert(tmp_path, "comments", src=src)
    assert len(cold_calls) <= 1


WORKER_LIKE = """
import os, sys
sys.path.insert(0, {repo!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "anclora.settings.test"
import django
django.setup()
from pathlib import Path
from conversions.engines import office_server
from conversions.engines.base import ConvertOptions
from conversions.engines.libreoffice import LibreOfficeEngine
LibreOfficeEngine().convert(Path({src!r}), Path({out!r}), "docx", "pdf", ConvertOptions(time_limit=120))
listener = office_server.warm_office.listener
print(listener.pid, listener.soffice_pid, flush=True)
sys.stdin.read()
"""


def test_listener_dies_with_a_sigkilled_worker(tmp_path):
    src = ef.make_office(tmp_path / "a.docx", "docx")
    script = WORKER_LIKE.format(repo=str(REPO), src=str(src), out=str(tmp_path / "a.pdf"))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    worker = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env=env, cwd=str(REPO))
    try:
        line = worker.stdout.readline().decode()
        bridge_pid, soffice_pid = (int(x) for x in line.split())
        assert office_server._pid_alive(soffice_pid) and detect_format(tmp_path / "a.pdf") == "pdf"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert gone(bridge_pid) and gone(soffice_pid)
    finally:
        worker.kill()
        worker.wait(10)
