"""Requests to remote servers (URL imports, finished S3 uploads, webhook deliveries) run on the "remote"
queue, consumed by its own worker in every way the app is started; conversions never share it."""

import re
import shlex
from pathlib import Path

import pytest
import yaml
from celery import current_app
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]
REMOTE_TASKS = ["uploads.tasks.url_import_run", "webhooks.tasks.webhook_delivery_task"]
CONVERSION_TASK = "conversions.tasks.conversion_run"


def _queue_of(task_name: str, options: dict | None = None) -> str:
    """The queue a message of `task_name` sent with `options` goes to (the app's router, from settings)."""
    route = current_app.amqp.router.route(dict(options or {}), task_name, (), {})
    queue = route.get("queue")
    return getattr(queue, "name", queue) or settings.CELERY_TASK_DEFAULT_QUEUE


@pytest.mark.parametrize("task_name", REMOTE_TASKS)
def test_remote_tasks_are_routed_to_the_remote_queue(task_name):
    assert _queue_of(task_name) == "remote"


def test_conversions_stay_off_the_remote_queue():
    assert _queue_of(CONVERSION_TASK) != "remote"
    assert _queue_of(CONVERSION_TASK, {"queue": "priority"}) == "priority"


def _captured_options(monkeypatch, task_name, send):
    """The options `send()` passes to apply_async of `task_name` (nothing is run)."""
    sent = []
    task = current_app.tasks[task_name]
    monkeypatch.setattr(task, "apply_async", lambda args=None, kwargs=None, **options: sent.append(options))
    send()
    assert len(sent) == 1
    return sent[0]


def test_the_import_is_enqueued_where_the_routes_say(monkeypatch):
    from uploads import imports

    options = _captured_options(monkeypatch, "uploads.tasks.url_import_run",
                                lambda: imports.url_import_enqueue(conversion_id="x", address=None))
    assert "queue" not in options  # an explicit queue would override CELERY_TASK_ROUTES
    assert _queue_of("uploads.tasks.url_import_run", options) == "remote"


def test_the_webhook_delivery_is_enqueued_where_the_routes_say(monkeypatch):
    from webhooks import services

    for countdown in (0, 30):  # the first attempt and a retry
        options = _captured_options(monkeypatch, "webhooks.tasks.webhook_delivery_task",
                                    lambda c=countdown: services._enqueue("x", countdown=c))
        assert "queue" not in options
        assert _queue_of("webhooks.tasks.webhook_delivery_task", options) == "remote"


def _queues(argv: list[str]) -> set[str]:
    return set(argv[argv.index("-Q") + 1].split(",")) if "-Q" in argv else {settings.CELERY_TASK_DEFAULT_QUEUE}


def _run_sh_workers() -> list[list[str]]:
    """The celery worker command lines of scripts/run.sh (`make run`), continuation lines joined."""
    text = (ROOT / "scripts" / "run.sh").read_text().replace("\\\n", " ")
    return [shlex.split(line.strip().rstrip("&"))
            for line in text.splitlines() if re.match(r"\s*\S*celery -A anclora worker", line)]


def _compose_workers() -> list[list[str]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return [shlex.split(svc["command"]) for svc in compose["services"].values()
            if isinstance(svc.get("command"), str) and " worker" in svc["command"]]


@pytest.mark.parametrize("workers", [_run_sh_workers, _compose_workers], ids=["make-run", "docker-compose"])
def test_every_routed_queue_has_a_worker_and_remote_has_its_own(workers):
    commands = workers()
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {
        settings.CELERY_TASK_DEFAULT_QUEUE}
    consumed = set().union(*(_queues(argv) for argv in commands))
    assert routed <= consumed, f"queues nobody consumes: {routed - consumed}"
    remote = [argv for argv in commands if "remote" in _queues(argv)]
    assert len(remote) == 1 and _queues(remote[0]) == {"remote"}, "remote tasks have a worker of their own"
    assert "--beat" not in remote[0] and "-B" not in remote[0]
