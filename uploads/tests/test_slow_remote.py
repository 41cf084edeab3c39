"""URL imports against slow and malformed remote servers (a real socket server in a thread).

A server that trickles its answer one byte at a time never lets a per-read timeout fire: the import
must end at its total deadline (URL_IMPORT_TIMEOUT, small here), headers included. A Content-Length
that is not 1-18 ASCII digits fails the job cleanly, with nothing stored or charged.
"""

import time

import pytest
from rest_framework.test import APIClient

from anclora.core.tests.trickle import TrickleServer, http_head
from conversions.models import Conversion
from storage.models import StoredFile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]

DEADLINE = 1  # URL_IMPORT_TIMEOUT in these tests (seconds)
MARGIN = 2.5  # the request around the download, on a busy 2-core machine; the old code took the whole trickle (20 s+)
PADDING = "a" * 400  # 400 header bytes at one per 50 ms: 20 s of trickle


@pytest.fixture(autouse=True)
def _short_deadline(settings):
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    settings.URL_IMPORT_TIMEOUT = DEADLINE


def _import(url: str):
    """POST the import; the (eager) worker downloads before the request returns. (response, seconds)."""
    client = APIClient()
    started = time.monotonic()
    resp = client.post("/api/conversion/convert", {"source_url": url, "target_format": "jpg"}, format="multipart")
    elapsed = time.monotonic() - started
    assert resp.status_code == 202, resp.content
    return Conversion.objects.get(pk=resp.json()["conversions"][0]["id"]), elapsed


def _nothing_kept(conversion: Conversion) -> None:
    assert conversion.paid_by == "" and conversion.output_id is None
    assert not StoredFile.objects.filter(is_deleted=False).exists()


def test_trickled_headers_end_at_the_total_deadline():
    head = http_head(Content_Type="image/png", Content_Length="10", X_Padding=PADDING)
    with TrickleServer(head=head, body=b"x" * 10, trickle_head=True) as server:
        conversion, elapsed = _import(server.url())
        assert server.request_seen.is_set() and not server.finished.is_set()
    assert conversion.status == "failed" and conversion.error_code == "source_timeout", conversion.error_code
    assert elapsed < DEADLINE + MARGIN, f"the import ran {elapsed:.1f}s with a {DEADLINE}s deadline"
    _nothing_kept(conversion)


def test_trickled_body_ends_at_the_total_deadline():
    body = b"\x89PNG\r\n\x1a\n" + b"x" * 392
    head = http_head(Content_Type="image/png", Content_Length=str(len(body)))
    with TrickleServer(head=head, body=body, trickle_body=True) as server:
        conversion, elapsed = _import(server.url())
        assert server.request_seen.is_set() and not server.finished.is_set()
    assert conversion.status == "failed" and conversion.error_code == "source_timeout"
    assert elapsed < DEADLINE + MARGIN, f"the import ran {elapsed:.1f}s with a {DEADLINE}s deadline"
    _nothing_kept(conversion)


def test_a_trickle_across_redirects_shares_one_deadline():
    """Each hop answering just inside a per-read timeout must not restart the clock."""
    with TrickleServer(head=http_head(Content_Length="4"), body=b"late", trickle_head=True) as target:
        redirect = http_head("302 Found", Location=target.url(), Content_Length="0")
        with TrickleServer(head=redirect, trickle_head=True, interval=0.004) as first:
            # ~0.4 s for the redirect's head, then the target's trickle: one 1 s deadline for both hops
            conversion, elapsed = _import(first.url())
            assert first.finished.is_set() and target.request_seen.is_set() and not target.finished.is_set()
    assert conversion.error_code == "source_timeout"
    assert elapsed < DEADLINE + MARGIN


@pytest.mark.parametrize("value", ["\u00b2", "1\u00b9", "1_0", "+10", " 1 0", "0x0a", "-1", "9" * 19, "9" * 400])
def test_a_content_length_that_is_not_ascii_digits_fails_the_job_cleanly(value):
    """"²".isdigit() is true and int("²") raises; "1_0" and "+10" are numbers to int() but not lengths."""
    head = http_head(Content_Type="image/png", Content_Length=value)
    with TrickleServer(head=head, body=b"x" * 10) as server:
        conversion, _elapsed = _import(server.url())
    assert conversion.status == "failed"
    assert conversion.error_code == "source_bad_response", (conversion.error_code, conversion.error_message)
    assert conversion.error_message == "El servidor de origen envió una cabecera Content-Length no válida."
    _nothing_kept(conversion)


def test_an_eighteen_digit_length_is_a_number_and_too_large():
    head = http_head(Content_Type="image/png", Content_Length="9" * 18)
    with TrickleServer(head=head, body=b"x" * 10) as server:
        conversion, _elapsed = _import(server.url())
    assert conversion.status == "failed" and conversion.error_code == "file_too_large"
    _nothing_kept(conversion)
