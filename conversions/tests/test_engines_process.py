"""Subprocess runner: timeouts kill the whole process group."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from conversions.engines import process
from conversions.engines.base import EngineError, EngineTimeout


def _live_members(pgid: int) -> list[int]:
    """Non-zombie processes whose process group is ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc")
def test_timeout_kills_process_group(tmp_path):
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(EngineTimeout) as info:
        process.run(["sh", "-c", f"echo $$ > {pidfile}; sleep 30 & sleep 30"],
                    timeout=1, cwd=tmp_path)
    assert time.monotonic() - started < 10
    assert info.value.code == "timeout"
    pgid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _live_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _live_members(pgid) == []


def test_plain_sleep_timeout(tmp_path):
    with pytest.raises(EngineTimeout):
        process.run(["sleep", "30"], timeout=1, cwd=tmp_path)


def test_nonzero_exit_keeps_stderr_out_of_message(tmp_path):
    with pytest.raises(EngineError) as info:
        process.run([sys.executable, "-c", "import sys; sys.stderr.write('secret /x/y'); "
                     "sys.exit(3)"], timeout=30, cwd=tmp_path)
    assert info.value.code == "engine_failed"
    assert "secret" not in info.value.message
    assert "secret /x/y" in info.value.detail


def test_output_is_captured_and_bounded(tmp_path):
    result = process.run([sys.executable, "-c", "print('x' * 300000)"], timeout=30,
                         cwd=tmp_path, max_capture=1000)
    assert result.returncode == 0
    assert len(result.stdout) <= 1000


def test_stdin_is_devnull_and_lines_reported(tmp_path):
    lines = []
    process.run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read())); "
                 "print('fin')"], timeout=30, cwd=tmp_path,
                on_line=lambda stream, line: lines.append((stream, line)))
    assert ("stdout", "''") in lines
    assert ("stdout", "fin") in lines


def test_shell_strings_rejected(tmp_path):
    with pytest.raises(TypeError):
        process.run("echo hola", timeout=5, cwd=tmp_path)


def test_missing_binary(tmp_path):
    with pytest.raises(EngineError) as info:
        process.run(["/nonexistent/binary"], timeout=5, cwd=tmp_path)
    assert info.value.code == "engine_unavailable"


def test_safe_env_has_no_parent_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "abc")
    env = process.safe_env(home=tmp_path)
    assert "SECRET_KEY" not in env
    assert env["HOME"] == str(tmp_path)
    assert os.environ["SECRET_KEY"] == "abc"


_PDEATHSIG_PROBE = (
    "import ctypes, signal; sig = ctypes.c_int(); "
    "ctypes.CDLL('libc.so.6').prctl(2, ctypes.byref(sig)); print(sig.value)"  # PR_GET_PDEATHSIG
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
@pytest.mark.parametrize("through_setpriv", [True, False])
def test_a_converter_dies_with_its_worker(tmp_path, monkeypatch, through_setpriv):
    """Either way (setpriv, or the preexec_fn fallback without it) the child gets SIGKILL when the worker dies."""
    if not through_setpriv:
        monkeypatch.setattr(process, "_pdeathsig_prefix", lambda: None)
    elif process._pdeathsig_prefix() is None:
        pytest.skip("no setpriv with --pdeathsig on this host (util-linux >= 2.33)")
    result = process.run([sys.executable, "-c", _PDEATHSIG_PROBE], timeout=30, cwd=tmp_path)
    assert int(result.stdout) == 9  # SIGKILL

