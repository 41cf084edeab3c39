"""The seeders `manage.py seed` runs, in order. Each is idempotent."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.module_loading import import_string

SEEDERS: list[tuple[str, str]] = [
    ("plans", "accounts.services.plans_ensure"),
    ("periodic_tasks", "anclora.core.schedules.periodic_tasks_ensure"),
    ("achievements", "gamification.services.achievements_ensure"),
]


def run_seeders() -> list[tuple[str, object]]:
    results = []
    for name, dotted in SEEDERS:
        seeder: Callable[[], object] = import_string(dotted)
        results.append((name, seeder()))
    return results
