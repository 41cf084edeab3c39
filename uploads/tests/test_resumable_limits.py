"""tus uploads: header numbers, caps on open uploads (per owner and per address), one writer per upload."""

import fcntl
import io
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from anclora.core.tests.parallel import run_in_parallel
from uploads import resumable
from uploads.models import ResumableUpload

from .test_resumable import TUS, create, patch

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


def _part_files():
    directory = resumable.upload_dir()
    return sorted(directory.glob("*.part"))


# --- header numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["²", "١٢", "+5", " 5", "5 ", "-1", "1_000", "0x10", "1" * 19, ""])
def test_upload_length_that_is_no_ascii_number_is_400_naming_it(user_client, value):
    resp = create(user_client, 10, HTTP_UPLOAD_LENGTH=value)
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == "invalid_header" and "Upload-Length" in resp.json()["details"]
    assert not ResumableUpload.objects.exists()


@pytest.mark.parametrize("value", ["²", "٣", "+0", "1" * 19])
def test_upload_offset_that_is_no_ascii_number_is_400_naming_it(user_client, value):
    url = create(user_client, 10).json()["upload_url"]
    resp = user_client.generic("PATCH", url, b"abc", content_type="application/offset+octet-stream",
                               HTTP_UPLOAD_OFFSET=value, **TUS)
    assert resp.status_code == 400, resp.content
    assert "Upload-Offset" in resp.json()["details"]


@pytest.mark.parametrize("value", ["²", "3²", "+3"])
def test_content_length_that_is_no_ascii_number_is_400_naming_it(user_client, value):
    url = create(user_client, 10).json()["upload_url"]
    resp = patch(user_client, url, 0, b"abc", CONTENT_LENGTH=value)
    assert resp.status_code == 400, resp.content
    assert "Content-Length" in resp.json()["details"]
    assert user_client.head(url, **TUS)["Upload-Offset"] == "0"


# --- caps on open uploads -------------------------------------------------------------------------

def test_past_the_owner_count_cap_is_429_with_retry_after_and_nothing_reserved(user_client, settings):
    settings.UNFINISHED_UPLOADS_MAX = 3
    urls = [create(user_client, 100).json()["upload_url"] for _ in range(3)]
    files = _part_files()
    assert len(files) == 3

    refused = create(user_client, 100)
    assert refused.status_code == 429, refused.content
    assert refused.json()["code"] == "too_many_uploads"
    hours = settings.RESUMABLE_UPLOAD_EXPIRE_HOURS * 3600
    assert 1 <= int(refused["Retry-After"]) <= min(3600, hours)
    assert ResumableUpload.objects.count() == 3 and _part_files() == files

    # A finished upload still holds its bytes until it is converted: it still counts.
    patch(user_client, urls[0], 0, b"x" * 100)
    assert create(user_client, 100).status_code == 429
    # Deleting one frees a slot.
    assert user_client.delete(urls[1], **TUS).status_code == 204
    assert create(user_client, 100).status_code == 201


def test_expired_uploads_do_not_count(user_client, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.UNFINISHED_UPLOADS_MAX = 1
    assert create(user_client, 100).status_code == 201
    ResumableUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert create(user_client, 100).status_code == 201


def test_past_the_owner_reserved_bytes_cap_is_429(user_client, settings):
    settings.UNFINISHED_UPLOADS_MAX_MB = 3
    assert create(user_client, 2 * MB).status_code == 201
    refused = create(user_client, MB + 1)
    assert refused.status_code == 429 and "Retry-After" in refused
    assert refused.json()["details"]["Upload-Length"] == [str(MB + 1)]
    assert create(user_client, MB).status_code == 201  # exactly up to the cap
    assert ResumableUpload.objects.count() == 2


def test_per_address_cap_counts_every_session_of_the_address(settings):
    """New anonymous sessions do not reset the count: the address is capped as well."""
    settings.UNFINISHED_UPLOADS_MAX = 5
    settings.UNFINISHED_UPLOADS_PER_ADDRESS_MAX = 2
    for _ in range(2):
        assert create(APIClient(), 10).status_code == 201
    refused = create(APIClient(), 10)  # a third session from the same address
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_uploads_address"
    assert "Retry-After" in refused
    assert ResumableUpload.objects.count() == 2
    # Another address is not affected.
    assert create(APIClient(REMOTE_ADDR="203.0.113.9"), 10).status_code == 201


def test_per_address_reserved_bytes_cap(settings):
    settings.UNFINISHED_UPLOADS_PER_ADDRESS_MAX_MB = 1
    assert create(APIClient(), MB // 2).status_code == 201
    refused = create(APIClient(), MB // 2 + 1)
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_uploads_address"


def test_the_address_is_stored_as_a_hash_not_the_address(user_client):
    create(user_client, 10)
    stored = ResumableUpload.objects.get().address_hash
    assert len(stored) == 64 and "127.0.0.1" not in stored


def test_s3_multipart_creation_has_the_same_cap(s3, settings):
    settings.UNFINISHED_UPLOADS_MAX = 1
    client = APIClient()
    first = client.post("/api/uploads/s3", {"filename": "a.png", "length": 10}, format="json")
    assert first.status_code == 201, first.content
    session = first["X-Session-Id"]
    refused = client.post("/api/uploads/s3", {"filename": "b.png", "length": 10, "session_id": session},
                          format="json")
    assert refused.status_code == 429, refused.content
    assert "Retry-After" in refused and "length" in refused.json()["details"]
    assert ResumableUpload.objects.count() == 1
    # and it is shared with tus uploads: one open upload of either kind
    assert create(client, 10, HTTP_X_SESSION_ID=session).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_parallel_creations_do_not_overshoot_the_cap(make_user, settings):
    """Threads create at once; the check and the insert are one step (advisory locks on PostgreSQL)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: SQLite runs each write transaction alone")
    settings.UNFINISHED_UPLOADS_MAX = 3
    user = make_user()
    threads_n = 12

    def one():
        client = APIClient()
        client.force_authenticate(user)
        return create(client, 10).status_code

    statuses, errors = run_in_parallel(one, threads_n)
    assert errors == []
    assert sorted(statuses) == [201] * 3 + [429] * (threads_n - 3)
    assert ResumableUpload.objects.filter(user=user).count() == 3


# --- one writer per upload ------------------------------------------------------------------------

def test_a_second_writer_of_the_same_upload_is_409_busy(user_client):
    url = create(user_client, 10).json()["upload_url"]
    upload = ResumableUpload.objects.get()
    with open(upload.path, "r+b") as held:  # what a PATCH in flight holds
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy = patch(user_client, url, 0, b"abc")
    assert busy.status_code == 409 and busy.json()["code"] == "upload_locked"
    assert Path(upload.path).read_bytes() == b""
    done = patch(user_client, url, 0, b"abc")
    assert done.status_code == 204 and done["Upload-Offset"] == "3"


def test_upload_deleted_while_its_bytes_travel_is_404_and_nothing_recorded(user_client):
    url = create(user_client, 10).json()["upload_url"]

    class DeletedMidway(io.BytesIO):
        def read(self, size=-1):
            chunk = super().read(size)
            if chunk:
                user_client.delete(url, **TUS)  # a DELETE from another request while the bytes travel
            return chunk

    resp = patch(user_client, url, 0, b"", CONTENT_LENGTH="3", **{"wsgi.input": DeletedMidway(b"abc")})
    assert resp.status_code == 404
    assert not ResumableUpload.objects.exists()
