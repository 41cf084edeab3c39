"""Resumable (tus) uploads: create, interrupted PATCH, HEAD, resume, convert; limits; scoping; expiry."""

import base64
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conversions.models import Conversion
from uploads.models import ResumableUpload
from uploads.tasks import uploads_cleanup_task

# after-commit work (the eager import and conversion) runs at the end of each request
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


def _meta(**values):
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(client, length, filename="foto.png", **extra):
    headers = {"HTTP_UPLOAD_LENGTH": str(length), "HTTP_UPLOAD_METADATA": _meta(filename=filename), **TUS, **extra}
    return client.post("/api/uploads/", **headers)


def patch(client, url, offset, data, **extra):
    return client.generic("PATCH", url, data, content_type="application/offset+octet-stream",
                          HTTP_UPLOAD_OFFSET=str(offset), **TUS, **extra)


class DroppedConnection(io.BytesIO):
    """The client's connection dies after these bytes (a real server raises on the short read)."""

    def read(self, size=-1):
        chunk = super().read(size)
        if not chunk:
            raise ConnectionResetError("client went away")
        return chunk


def test_options_advertises_tus():
    resp = APIClient().options("/api/uploads/")
    assert resp.status_code == 204
    assert resp["Tus-Version"] == "1.0.0" and "creation" in resp["Tus-Extension"]
    assert "termination" in resp["Tus-Extension"] and "expiration" in resp["Tus-Extension"]


def test_interrupted_upload_resumed_to_a_completed_conversion(user_client, sample):
    data = sample("png").read_bytes()
    half = len(data) // 2
    resp = create(user_client, len(data))
    assert resp.status_code == 201, resp.content
    url = resp.json()["upload_url"]
    assert resp["Location"].endswith(url) and resp["Upload-Offset"] == "0"

    # The first PATCH announces every byte but the connection drops halfway.
    dropped = patch(user_client, url, 0, b"", CONTENT_LENGTH=str(len(data)),
                    **{"wsgi.input": DroppedConnection(data[:half])})
    assert dropped.status_code == 204
    head = user_client.head(url, **TUS)
    assert head.status_code == 200 and head["Upload-Offset"] == str(half)
    assert head["Upload-Length"] == str(len(data)) and "Upload-Expires" in head.headers

    too_early = user_client.post("/api/conversion/convert", {"upload_id": resp.json()["id"], "target_format": "jpg"},
                                 format="multipart")
    assert too_early.status_code == 409 and too_early.json()["code"] == "upload_incomplete"

    rest = patch(user_client, url, int(head["Upload-Offset"]), data[half:])
    assert rest.status_code == 204 and rest["Upload-Offset"] == str(len(data))

    upload = ResumableUpload.objects.get()
    assert Path(upload.path).read_bytes() == data
    convert = user_client.post("/api/conversion/convert", {"upload_id": str(upload.pk), "target_format": "jpg"},
                               format="multipart")
    assert convert.status_code == 202, convert.content
    (item,) = convert.json()["conversions"]
    assert item["original_filename"] == "foto.png" and item["original_format"] == "png"
    assert Conversion.objects.get(pk=item["id"]).status == "completed"
    assert not ResumableUpload.objects.exists() and not Path(upload.path).exists()
    again = user_client.post("/api/conversion/convert", {"upload_id": str(upload.pk), "target_format": "jpg"},
                             format="multipart")
    assert again.status_code == 404


def test_offset_mismatch_is_409(user_client):
    url = create(user_client, 10).json()["upload_url"]
    assert patch(user_client, url, 0, b"12345").status_code == 204
    resp = patch(user_client, url, 3, b"45678")
    assert resp.status_code == 409 and resp.json()["code"] == "offset_mismatch"
    assert user_client.head(url, **TUS)["Upload-Offset"] == "5"


def test_over_the_plan_limit_is_413_before_any_byte(user_client, settings):
    settings.MAX_UPLOAD_MB = 1
    resp = create(user_client, 1024 * 1024 + 1)
    assert resp.status_code == 413 and resp.json()["code"] == "file_too_large"
    assert not ResumableUpload.objects.exists()


def test_chunk_beyond_the_declared_length_is_413(user_client):
    url = create(user_client, 4).json()["upload_url"]
    resp = patch(user_client, url, 0, b"123456")
    assert resp.status_code == 413
    assert user_client.head(url, **TUS)["Upload-Offset"] == "0"


def test_other_users_upload_is_404(user_client, make_user):
    body = create(user_client, 4).json()
    url = body["upload_url"]
    intruder = APIClient()
    intruder.force_authenticate(make_user())
    assert intruder.head(url, **TUS).status_code == 404
    assert intruder.get(url).status_code == 404
    assert patch(intruder, url, 0, b"1234").status_code == 404
    assert intruder.delete(url, **TUS).status_code == 404
    convert = intruder.post("/api/conversion/convert", {"upload_id": body["id"], "target_format": "jpg"},
                            format="multipart")
    assert convert.status_code == 404
    anonymous = APIClient()
    assert anonymous.head(url, **TUS).status_code == 404
    assert user_client.head(url, **TUS)["Upload-Offset"] == "0"


def test_anonymous_upload_by_session(sample):
    client = APIClient()
    data = sample("png").read_bytes()
    resp = create(client, len(data))
    session_id = resp["X-Session-Id"]
    assert resp.json()["session_id"] == session_id
    assert patch(client, resp.json()["upload_url"], 0, data, HTTP_X_SESSION_ID=session_id).status_code == 204
    convert = client.post("/api/conversion/convert", {"upload_id": resp.json()["id"], "target_format": "gif",
                                                      "session_id": session_id}, format="multipart")
    assert convert.status_code == 202, convert.content


def test_protocol_errors(user_client):
    assert user_client.post("/api/uploads/", HTTP_UPLOAD_LENGTH="4").status_code == 412
    assert create(user_client, 4, HTTP_UPLOAD_LENGTH="abc").status_code == 400
    url = create(user_client, 4).json()["upload_url"]
    wrong_type = user_client.generic("PATCH", url, b"1234", content_type="application/octet-stream",
                                     HTTP_UPLOAD_OFFSET="0", **TUS)
    assert wrong_type.status_code == 415
    assert user_client.delete(url, **TUS).status_code == 204
    assert user_client.head(url, **TUS).status_code == 404


def test_expired_upload_is_gone_and_cleaned_by_the_task(user_client):
    url = create(user_client, 10).json()["upload_url"]
    patch(user_client, url, 0, b"12345")
    upload = ResumableUpload.objects.get()
    fresh_url = create(user_client, 10).json()["upload_url"]
    ResumableUpload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert user_client.head(url, **TUS).status_code == 410
    assert patch(user_client, url, 5, b"67890").status_code == 410
    assert uploads_cleanup_task()["expired_uploads"] == 1
    assert not Path(upload.path).exists()
    assert list(ResumableUpload.objects.values_list("pk", flat=True)) != [upload.pk]
    assert user_client.head(fresh_url, **TUS).status_code == 200


def test_cleanup_is_scheduled():
    from anclora.core.schedules import PERIODIC_TASKS

    assert PERIODIC_TASKS["uploads-cleanup"][0] == "uploads.tasks.uploads_cleanup_task"


def _finished_upload(client, data: bytes, filename="foto.png") -> str:
    created = create(client, len(data), filename=filename)
    assert created.status_code == 201, created.content
    assert patch(client, created.json()["upload_url"], 0, data).status_code == 204
    return created.json()["id"]


def test_options_with_an_upload_id_change_the_output(user_client):
    from PIL import Image

    source = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(source, "PNG")
    upload_id = _finished_upload(user_client, source.getvalue())
    convert = user_client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "webp",
                                                           "options": '{"width": 16}'}, format="multipart")
    assert convert.status_code == 202, convert.content
    (item,) = convert.json()["conversions"]
    assert item["options"]["width"] == 16 and item["options"]["strip_metadata"] is True
    conversion = Conversion.objects.get(pk=item["id"])
    assert conversion.status == "completed" and conversion.options["params"]["width"] == 16
    data = b"".join(user_client.get(f"/api/conversion/{item['id']}/download").streaming_content)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "WEBP" and im.size == (16, 12)


@pytest.mark.parametrize("options, name", [({"width": 0}, "width"), ({"trim_start": 1}, "trim_start")])
def test_bad_option_with_an_upload_id_is_a_400_naming_it_and_the_upload_stays(user_client, sample, options, name):
    import json

    upload_id = _finished_upload(user_client, sample("png").read_bytes())
    convert = user_client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "jpg",
                                                           "options": json.dumps(options)}, format="multipart")
    assert convert.status_code == 400, convert.content
    body = convert.json()
    assert body["code"] == "invalid_option" and list(body["details"]["options"]) == [name]
    assert not Conversion.objects.exists() and ResumableUpload.objects.filter(pk=upload_id).exists()
