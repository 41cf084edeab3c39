"""Real workers: a URL import stuck on a slow server holds the "remote" worker only; another caller's
conversion is taken and finished by the conversion worker meanwhile (the worker-integration harness of
conversions/tests/test_worker_integration.py: real `celery worker` processes, Redis, Postgres)."""

import time

import pytest
from rest_framework.test import APIClient

from anclora.core.tests.trickle import TrickleServer, http_head
from conversions.models import Conversion
from conversions.tests.test_worker_integration import (  # noqa: F401 - fixtures used by name
    broker,
    shared_db,
    wait_for,
    workers,
)
from factories import upload

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True),
              pytest.mark.xdist_group("celery_broker")]


def test_a_conversion_completes_while_remote_tasks_are_blocked_on_a_slow_server(api_client, sample,
                                                                               workers):  # noqa: F811
    local_source = {"URL_IMPORT_ALLOW_PRIVATE": "1", "URL_IMPORT_TIMEOUT": "120"}  # both could download it
    conversions = workers(concurrency=1, extra_env=local_source)  # -Q priority,default, as make run starts it
    remote = workers(concurrency=1, queues="remote", extra_env=local_source)
    # 400 header bytes, one every 0.1 s: the import would hold its worker for 40 s
    head = http_head(Content_Type="image/png", Content_Length="10", X_Padding="a" * 400)
    with TrickleServer(head=head, body=b"x" * 10, trickle_head=True, interval=0.1) as slow:
        importer = APIClient()
        resp = importer.post("/api/conversion/convert", {"source_url": slow.url("/foto.png"), "target_format": "jpg"},
                             format="multipart")
        assert resp.status_code == 202, resp.content
        import_id = resp.json()["conversions"][0]["id"]
        wait_for(slow.request_seen.is_set, 60, "a worker to start the download", remote, conversions)

        started = time.monotonic()
        resp = upload(api_client, [sample("png")], "jpg")  # another caller, a sub-second conversion
        assert resp.status_code == 202, resp.content
        cid = resp.json()["conversions"][0]["id"]
        status = wait_for(lambda: Conversion.objects.filter(pk=cid).exclude(
            status__in=Conversion.ACTIVE_STATUSES).values_list("status", flat=True).first(),
            60, "the conversion to finish", conversions, remote)
        took = time.monotonic() - started
        assert status == "completed"
        # the import is still downloading from the slow server: it never held the conversion worker
        assert not slow.finished.is_set()
        row = Conversion.objects.get(pk=import_id)
        assert row.status == "pending" and row.options.get("import") == "fetching"
    assert took < 30, f"the conversion took {took:.1f}s"
