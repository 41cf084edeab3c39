"""The worker memory ceiling: WORKER_MAX_MEMORY_MB reaches Celery's worker_max_memory_per_child (KiB) and
the worker command line of scripts/run.sh. bench/worker_memory.py shows the recycling on a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE = Path(__file__).resolve().parents[2]
READ = ("import django; django.setup(); from anclora.celery import app; "
        "print(app.conf.worker_max_memory_per_child)")


@pytest.mark.parametrize("value, expected", [(None, "1048576"), ("300", "307200"), ("0", "None")])
def test_the_ceiling_reaches_celery(value, expected):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "anclora.settings.base"}
    env.pop("WORKER_MAX_MEMORY_MB", None)
    if value is not None:
        env["WORKER_MAX_MEMORY_MB"] = value
    out = subprocess.run([sys.executable, "-c", READ], cwd=BASE, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip().splitlines()[-1] == expected


def test_run_sh_starts_the_worker_with_the_ceiling():
    script = (BASE / "scripts" / "run.sh").read_text()
    worker = script[script.index("celery -A anclora worker"):]
    worker = worker[:worker.index("&\n")]
    assert '--max-memory-per-child "$(( ${WORKER_MAX_MEMORY_MB:-1024} * 1024 ))"' in worker
