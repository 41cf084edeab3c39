"""S3 presigned multipart uploads against a real S3-compatible server on loopback (moto's ThreadedMotoServer).

Nothing of boto3 is mocked: the server opens, lists, completes and aborts real multipart uploads, the
client PUTs the parts over HTTP to the presigned URLs, the worker reads the finished object back.
"""

import uuid
from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import S3_TEST_BUCKET as BUCKET  # the `s3` fixture's bucket
from conversions.models import Conversion
from storage.models import StoredFile
from uploads import s3multipart
from uploads.models import ResumableUpload
from uploads.tasks import uploads_cleanup_task

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

MB = 1024 * 1024


def _open_multipart_uploads(client) -> list[dict]:
    return client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])


def _keys(client) -> set[str]:
    return {obj["Key"] for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _create(client, length, filename="ruido.png"):
    return client.post("/api/uploads/s3", {"filename": filename, "length": length}, format="json")


def _put(url: str, data: bytes) -> requests.Response:
    return requests.put(url, data=data, timeout=30)


def test_interrupted_after_one_part_resumed_from_the_listed_parts_to_a_completed_conversion(
        s3, user_client, big_png):
    created = _create(user_client, len(big_png))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["backend"] == "s3" and body["part_size"] == 5 * MB and body["part_count"] == 2
    upload_id = body["id"]
    assert len(_open_multipart_uploads(s3)) == 1

    urls = user_client.post(f"/api/uploads/{upload_id}/parts", {"part_numbers": [1, 2]}, format="json").json()
    assert [p["part_number"] for p in urls["parts"]] == [1, 2]
    assert [p["size"] for p in urls["parts"]] == [5 * MB, len(big_png) - 5 * MB]
    assert _put(urls["parts"][0]["url"], big_png[:5 * MB]).status_code == 200
    # ... and the connection is lost before part 2.

    listed = user_client.get(f"/api/uploads/{upload_id}/parts")
    assert listed.status_code == 200
    assert [(p["part_number"], p["size"]) for p in listed.json()["parts"]] == [(1, 5 * MB)]
    assert listed.json()["received"] == 5 * MB
    early = user_client.post(f"/api/uploads/{upload_id}/complete")
    assert early.status_code == 409 and early.json()["code"] == "upload_parts_invalid"
    assert early.json()["details"]["missing"] == ["2"]
    too_early = user_client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "jpg"},
                                 format="multipart")
    assert too_early.status_code == 409 and too_early.json()["code"] == "upload_incomplete"

    # Resume: only the missing part, with a fresh URL.
    missing = [n for n in range(1, body["part_count"] + 1)
               if n not in {p["part_number"] for p in listed.json()["parts"]}]
    fresh = user_client.post(f"/api/uploads/{upload_id}/parts", {"part_numbers": missing}, format="json").json()
    assert _put(fresh["parts"][0]["url"], big_png[5 * MB:]).status_code == 200
    done = user_client.post(f"/api/uploads/{upload_id}/complete")
    assert done.status_code == 200, done.content
    assert done.json()["complete"] is True and done.json()["offset"] == len(big_png)
    assert not _open_multipart_uploads(s3)
    upload = ResumableUpload.objects.get(pk=upload_id)
    assert s3.get_object(Bucket=BUCKET, Key=upload.storage_name)["Body"].read() == big_png
    assert user_client.post(f"/api/uploads/{upload_id}/complete").status_code == 200  # idempotent

    convert = user_client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "jpg"},
                               format="multipart")
    assert convert.status_code == 202, convert.content
    (item,) = convert.json()["conversions"]
    conversion = Conversion.objects.select_related("source", "output").get(pk=item["id"])
    assert conversion.status == Conversion.Status.COMPLETED, (conversion.error_code, conversion.error_message)
    assert conversion.original_format == "png" and conversion.source.original_filename == "ruido.png"
    assert conversion.source.size == len(big_png)
    keys = _keys(s3)
    assert upload.storage_name not in keys  # the finished upload is gone once the worker has it
    assert conversion.source.storage_name in keys and conversion.output.storage_name in keys
    result = s3.get_object(Bucket=BUCKET, Key=conversion.output.storage_name)["Body"].read()
    assert result[:3] == b"\xff\xd8\xff"
    assert not ResumableUpload.objects.exists()
    again = user_client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "jpg"},
                             format="multipart")
    assert again.status_code == 404


def test_a_part_of_the_wrong_size_is_refused_at_completion_and_can_be_sent_again(s3, user_client, big_png):
    upload_id = _create(user_client, len(big_png)).json()["id"]
    urls = user_client.post(f"/api/uploads/{upload_id}/parts", {"part_numbers": [1, 2]}, format="json").json()
    _put(urls["parts"][0]["url"], big_png[:5 * MB])
    _put(urls["parts"][1]["url"], big_png[5 * MB:] + b"extra")
    wrong = user_client.post(f"/api/uploads/{upload_id}/complete")
    assert wrong.status_code == 409 and wrong.json()["details"]["wrong_size"] == ["2"]
    _put(urls["parts"][1]["url"], big_png[5 * MB:])
    assert user_client.post(f"/api/uploads/{upload_id}/complete").status_code == 200


def test_another_users_upload_is_404_for_part_urls_list_complete_and_delete(s3, user_client, make_user, big_png):
    upload_id = _create(user_client, len(big_png)).json()["id"]
    intruder = APIClient()
    intruder.force_authenticate(make_user())
    for resp in (intruder.post(f"/api/uploads/{upload_id}/parts", {"part_numbers": [1]}, format="json"),
                 intruder.get(f"/api/uploads/{upload_id}/parts"),
                 intruder.post(f"/api/uploads/{upload_id}/complete"),
                 intruder.delete(f"/api/uploads/{upload_id}", HTTP_TUS_RESUMABLE="1.0.0"),
                 APIClient().post(f"/api/uploads/{upload_id}/parts", {"part_numbers": [1]}, format="json")):
        assert resp.status_code == 404, resp.content
        assert "url" not in resp.content.decode()
    assert len(_open_multipart_uploads(s3)) == 1
    assert user_client.post(f"/api/uploads/{uuid.uuid4()}/parts", {"part_numbers": [1]},
                            format="json").status_code == 404


def test_bad_part_numbers_and_tus_patch_on_an_s3_upload_are_refused(s3, user_client, big_png):
    upload_id = _create(user_client, len(big_png)).json()["id"]
    for numbers in ([0], [3], [], ["x"], list(range(1, 102))):
        resp = user_client.post(f"/api/uploads/{upload_id}/parts", {"part_numbers": numbers}, format="json")
        assert resp.status_code == 400, (numbers, resp.content)
    patch = user_client.generic("PATCH", f"/api/uploads/{upload_id}", b"abc",
                                content_type="application/offset+octet-stream",
                                HTTP_UPLOAD_OFFSET="0", HTTP_TUS_RESUMABLE="1.0.0")
    assert patch.status_code == 409 and patch.json()["code"] == "upload_not_tus"


def test_over_the_plan_limit_is_413_before_s3_sees_anything(s3, user_client, settings):
    settings.MAX_UPLOAD_MB = 1
    resp = _create(user_client, MB + 1)
    assert resp.status_code == 413 and resp.json()["code"] == "file_too_large"
    assert not _open_multipart_uploads(s3) and not ResumableUpload.objects.exists()


def test_termination_aborts_the_multipart_upload(s3, user_client, big_png):
    upload_id = _create(user_client, len(big_png)).json()["id"]
    resp = user_client.delete(f"/api/uploads/{upload_id}", HTTP_TUS_RESUMABLE="1.0.0")
    assert resp.status_code == 204
    assert not _open_multipart_uploads(s3) and not ResumableUpload.objects.exists()


def test_expiry_cleanup_aborts_stale_multipart_uploads_and_orphans(s3, user_client, big_png, settings):
    stale_id = _create(user_client, len(big_png)).json()["id"]
    urls = user_client.post(f"/api/uploads/{stale_id}/parts", {"part_numbers": [1]}, format="json").json()
    _put(urls["parts"][0]["url"], big_png[:5 * MB])
    # An upload S3 knows but no row does (the process died between the two).
    s3.create_multipart_upload(Bucket=BUCKET, Key=f"{s3multipart.PREFIX}{uuid.uuid4().hex}")
    # Somebody else's multipart upload outside our prefix is none of our business.
    foreign = s3.create_multipart_upload(Bucket=BUCKET, Key="other-app/video.mov")
    assert len(_open_multipart_uploads(s3)) == 3

    assert uploads_cleanup_task() == {"expired_uploads": 0, "orphaned_s3_uploads": 1, "stale_imports": 0}
    open_ids = {u["UploadId"] for u in _open_multipart_uploads(s3)}
    stale = ResumableUpload.objects.get(pk=stale_id)
    assert open_ids == {stale.s3_upload_id, foreign["UploadId"]}  # not expired yet, not ours

    later = timezone.now() + timedelta(hours=settings.RESUMABLE_UPLOAD_EXPIRE_HOURS, minutes=1)
    with time_machine.travel(later, tick=False):
        fresh_id = _create(user_client, len(big_png)).json()["id"]  # opened just now: kept
        assert user_client.get(f"/api/uploads/{stale_id}/parts").status_code == 410
        assert uploads_cleanup_task() == {"expired_uploads": 1, "orphaned_s3_uploads": 0, "stale_imports": 0}
    fresh = ResumableUpload.objects.get()
    assert str(fresh.pk) == fresh_id
    assert {u["UploadId"] for u in _open_multipart_uploads(s3)} == {fresh.s3_upload_id, foreign["UploadId"]}


def test_without_s3_storage_the_endpoint_says_so(user_client):
    resp = _create(user_client, 10)
    assert resp.status_code == 409 and resp.json()["code"] == "s3_uploads_unavailable"


def test_an_api_key_with_convert_drives_the_whole_flow(s3, make_user, big_png):
    from apikeys import services as key_services

    user = make_user()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key " + key_services.api_key_create(
        user=user, name="s3", scopes=["convert"]).key)
    upload_id = _create(client, len(big_png)).json()["id"]
    urls = client.post(f"/api/uploads/{upload_id}/parts", {"part_numbers": [1, 2]}, format="json").json()
    for part in urls["parts"]:
        start = (part["part_number"] - 1) * 5 * MB
        assert _put(part["url"], big_png[start:start + part["size"]]).status_code == 200
    assert client.post(f"/api/uploads/{upload_id}/complete").status_code == 200
    convert = client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "jpg"},
                          format="multipart")
    assert convert.status_code == 202
    assert Conversion.objects.get(user=user).status == Conversion.Status.COMPLETED
    assert StoredFile.objects.filter(user=user, kind=StoredFile.Kind.ORIGINAL, is_deleted=False).count() == 1


def test_content_that_is_not_what_its_name_says_fails_the_job_and_the_object_goes(s3, user_client):
    data = b"\x00not a png" * (600 * 1024)  # ~5.9 MB: two parts
    upload_id = _create(user_client, len(data), filename="fake.png").json()["id"]
    urls = user_client.post(f"/api/uploads/{upload_id}/parts", {"part_numbers": [1, 2]}, format="json").json()
    for part in urls["parts"]:
        start = (part["part_number"] - 1) * 5 * MB
        assert _put(part["url"], data[start:start + part["size"]]).status_code == 200
    assert user_client.post(f"/api/uploads/{upload_id}/complete").status_code == 200
    storage_name = ResumableUpload.objects.get(pk=upload_id).storage_name
    convert = user_client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "jpg"},
                               format="multipart")
    assert convert.status_code == 202 and convert.json()["conversions"][0]["fetching"] is True
    conversion = Conversion.objects.get(pk=convert.json()["conversions"][0]["id"])
    assert conversion.status == Conversion.Status.FAILED and conversion.error_code
    assert "fake.png" in conversion.error_message
    assert storage_name not in _keys(s3)
    assert not StoredFile.objects.filter(is_deleted=False).exists()  # nothing stored


def test_options_with_a_finished_s3_upload_are_checked_and_applied(s3, user_client, big_png):
    import io
    import json

    from PIL import Image

    upload_id = _create(user_client, len(big_png)).json()["id"]
    urls = user_client.post(f"/api/uploads/{upload_id}/parts", {"part_numbers": [1, 2]}, format="json").json()
    for part in urls["parts"]:
        start = (part["part_number"] - 1) * 5 * MB
        assert _put(part["url"], big_png[start:start + part["size"]]).status_code == 200
    assert user_client.post(f"/api/uploads/{upload_id}/complete").status_code == 200
    refused = user_client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "jpg",
                                                           "options": json.dumps({"width": 99999})},
                               format="multipart")
    assert refused.status_code == 400 and list(refused.json()["details"]["options"]) == ["width"]
    assert ResumableUpload.objects.filter(pk=upload_id).exists()  # refused before the upload was taken
    convert = user_client.post("/api/conversion/convert", {"upload_id": upload_id, "target_format": "jpg",
                                                           "options": json.dumps({"width": 140})},
                               format="multipart")
    assert convert.status_code == 202, convert.content
    conversion = Conversion.objects.get(pk=convert.json()["conversions"][0]["id"])
    assert conversion.status == Conversion.Status.COMPLETED, conversion.error_message
    assert conversion.options["params"]["width"] == 140
    data = b"".join(user_client.get(f"/api/conversion/{conversion.pk}/download").streaming_content)
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (140, 130)  # 1400 x 1300 in proportion
