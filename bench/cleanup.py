"""Cleanup of expired files: time and peak memory for N expired rows with small files.

    .venv/bin/python bench/cleanup.py [--rows 100000] [--rows-small 10000]

Runs on a scratch SQLite database and media dir under a temp dir (or on DATABASE_URL if set —
use a scratch database, the script writes to it). Prints files/second and the Python peak
allocation (tracemalloc) for a small and a large run: flat memory means the peak does not
grow with the number of rows. Targets: >= 2,000 files/s on local storage; memory flat.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(tmp: Path) -> None:
    os.environ.setdefault("VAR_DIR", str(tmp / "var"))
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anclora.settings.base")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(rows: int) -> None:
    from django.utils import timezone

    from accounts.models import AnonymousSession
    from storage.models import StoredFile

    media = Path(os.environ["MEDIA_ROOT"])
    session = AnonymousSession.objects.create()
    expired = timezone.now() - timedelta(hours=1)
    batch = []
    folder = media / "2020/01/01/original"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(rows):
        name = f"2020/01/01/original/{uuid.uuid4().hex}-f{i}.txt"
        (media / name).write_bytes(b"x" * 64)
        batch.append(StoredFile(session=session, kind="original", storage_name=name, original_filename="f.txt",
                                file_format="txt", size=64, content_type="text/plain", checksum="0" * 64,
                                expires_at=expired))
        if len(batch) == 5000:
            StoredFile.objects.bulk_create(batch)
            batch = []
    StoredFile.objects.bulk_create(batch)


def run(rows: int) -> tuple[float, float, int]:
    from storage import maintenance

    populate(rows)
    tracemalloc.start()
    started = time.perf_counter()
    deleted = maintenance.stored_files_delete_expired()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 1024 / 1024, deleted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rows-small", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="anclora-bench-cleanup-") as tmp:
        setup(Path(tmp))
        results = {}
        for rows in (args.rows_small, args.rows):
            elapsed, peak_mb, deleted = run(rows)
            assert deleted == rows, (deleted, rows)
            results[rows] = (elapsed, peak_mb)
            print(f"cleanup {rows:>7} expired files: {elapsed:6.2f} s, {rows / elapsed:8.0f} files/s, "
                  f"peak Python allocation {peak_mb:6.1f} MB")
        small, large = results[args.rows_small], results[args.rows]
        rate = args.rows / large[0]
        print(f"target >= 2000 files/s: {'met' if rate >= 2000 else 'NOT met'} ({rate:.0f})")
        growth = large[1] / max(small[1], 0.01)
        print(f"memory {args.rows_small} -> {args.rows} rows: x{growth:.2f} "
              f"({'flat' if growth < 1.5 else 'NOT flat'})")


if __name__ == "__main__":
    main()
