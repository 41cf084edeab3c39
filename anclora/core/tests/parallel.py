"""Run one callable from many threads released together (race tests on a real database)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_in_parallel(call: Callable[[], object], n: int = 20) -> tuple[list, list[BaseException]]:
    """`call()` in n threads behind a barrier; (results, exceptions) in completion order.

    Each thread closes its own database connection when done.
    """
    barrier = threading.Barrier(n)
    results: list = []
    errors: list[BaseException] = []

    def worker():
        from django.db import connection

        try:
            barrier.wait()
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
