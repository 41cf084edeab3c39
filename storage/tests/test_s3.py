"""The same flows on S3 (django-storages) against a real S3-compatible server on loopback (moto)."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from conftest import S3_TEST_BUCKET
from factories import upload
from storage import maintenance
from storage.models import StoredFile

# moto is another process but never reads our database: the per-test transaction is enough
pytestmark = [pytest.mark.services, pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]

BUCKET = S3_TEST_BUCKET  # the `s3` fixture (root conftest) makes it the default storage


def _keys(client) -> set[str]:
    return {obj["Key"] for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_s3_round_trip_upload_convert_download_expire(s3, settings, tmp_path):
    local_media = Path(settings.MEDIA_ROOT)
    source = tmp_path / "foto.png"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(source)
    client = APIClient()
    resp = upload(client, [source], "jpg")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    conversion = body["conversions"][0]
    detail = client.get(conversion["status_url"], {"session_id": body["session_id"]}).json()
    assert detail["status"] == "completed", detail

    files = {f.kind: f for f in StoredFile.objects.all()}
    assert _keys(s3) == {files["original"].storage_name, files["converted"].storage_name}
    assert not any(local_media.rglob("*")), "nothing may be written to the local media root"

    download = client.get(detail["download_url"], {"session_id": body["session_id"]})
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert Image.open(io.BytesIO(data)).format == "JPEG"
    other = APIClient().get(detail["download_url"])
    assert other.status_code == 404

    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert maintenance.stored_files_delete_expired() == 2
    assert _keys(s3) == set()
    gone = client.get(detail["download_url"], {"session_id": body["session_id"]})
    assert gone.status_code == 410


def test_s3_orphan_sweep(s3):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("2020/01/01/original/stray.txt", ContentFile(b"x"))
    assert name in _keys(s3)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        assert maintenance.orphans_sweep()["bytes_removed"] == 1
    assert _keys(s3) == set()
