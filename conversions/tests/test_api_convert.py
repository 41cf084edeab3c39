import io
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import SubscriptionPlan
from conversions.models import Conversion
from factories import upload
from storage.models import StoredFile

# The eager worker runs after each request's commit (commit_per_request): no real transactions needed.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]


def test_anonymous_png_to_jpg_end_to_end(api_client, sample):
    resp = upload(api_client, [sample("png")], "jpg")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    session_id = body["session_id"]
    uuid.UUID(session_id)
    (item,) = body["conversions"]
    for key in ("id", "status", "original_filename", "original_format", "target_format",
                "file_size_mb", "quality", "progress", "created_at", "expires_at", "status_url",
                "download_url"):
        assert key in item
    assert item["original_format"] == "png" and item["target_format"] == "jpg"
    assert item["quality"] == "standard"

    detail = api_client.get(item["status_url"], {"session_id": session_id}).json()
    assert detail["status"] == "completed", detail
    assert detail["progress"] == 100 and detail["engine"] == "pillow"
    download = api_client.get(detail["download_url"], HTTP_X_SESSION_ID=session_id)
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    data = b"".join(download.streaming_content)
    assert data[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_logged_in_batch_and_zip(api_client, make_user, sample):
    user = make_user()
    api_client.force_authenticate(user)
    resp = upload(api_client, [sample("png", "a.png"), sample("bmp", "b.bmp")], "webp",
                  quality="high")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert body["session_id"] is None
    assert len(body["conversions"]) == 2
    assert {c["quality"] for c in body["conversions"]} == {"high"}
    zipped = api_client.get(f"/api/conversion/batch/{body['batch_id']}/download")
    assert zipped.status_code == 200 and zipped["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content)))
    assert sorted(archive.namelist()) == ["a.webp", "b.webp"]
    for name in archive.namelist():
        assert archive.read(name)[8:12] == b"WEBP"
    history = api_client.get("/api/conversion/history").json()
    assert history["count"] == 2 and len(history["results"]) == 2
    files = api_client.get("/api/files/").json()
    assert files["count"] == 4  # two originals, two outputs
    assert {f["kind"] for f in files["results"]} == {"original", "converted"}


def test_storage_layout_and_expiry_from_plan(api_client, make_user, sample):
    user = make_user()
    api_client.force_authenticate(user)
    upload(api_client, [sample("png", "foto.png")], "gif")
    original = StoredFile.objects.get(kind="original")
    today = timezone.now()
    assert original.storage_name.startswith(f"{today:%Y/%m/%d}/original/")
    assert original.storage_name.endswith("-foto.png")
    assert default_storage.exists(original.storage_name)
    assert len(original.checksum) == 64
    expected = timezone.now() + timedelta(hours=24)
    assert abs((original.expires_at - expected).total_seconds()) < 60


def test_pending_download_is_409_and_expired_is_410(api_client, sample, settings,
                                                      no_worker):
    client = APIClient()
    resp = upload(client, [sample("png")], "jpg")
    body = resp.json()
    conversion_id = body["conversions"][0]["id"]
    session = body["session_id"]
    early = client.get(f"/api/conversion/{conversion_id}/download", {"session_id": session})
    assert early.status_code == 409 and early.json()["code"] == "not_ready"

    from conversions import services

    assert services.conversion_execute(conversion_id=conversion_id) == "completed"
    conv = Conversion.objects.get(pk=conversion_id)
    StoredFile.objects.filter(pk=conv.output_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    late = client.get(f"/api/conversion/{conversion_id}/download", {"session_id": session})
    assert late.status_code == 410 and late.json()["code"] == "expired"


def test_cancel_pending_then_not_again(api_client, sample, no_worker):
    body = upload(api_client, [sample("png")], "jpg").json()
    cid, sid = body["conversions"][0]["id"], body["session_id"]
    resp = api_client.post(f"/api/conversion/{cid}/cancel?session_id={sid}")
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    again = api_client.post(f"/api/conversion/{cid}/cancel?session_id={sid}")
    assert again.status_code == 409
    from conversions import services

    assert services.conversion_execute(conversion_id=cid) == "skipped"
    assert not StoredFile.objects.filter(kind="converted").exists()


def test_other_user_and_other_session_get_404_everywhere(make_user, sample):
    owner = APIClient()
    owner.force_authenticate(make_user())
    body = upload(owner, [sample("png")], "jpg").json()
    cid, batch = body["conversions"][0]["id"], body["batch_id"]
    file_id = StoredFile.objects.filter(kind="original").values_list("pk", flat=True).first()

    anon = APIClient()
    anon_body = upload(anon, [sample("png")], "gif").json()
    anon_sid = anon_body["session_id"]
    anon_cid = anon_body["conversions"][0]["id"]

    intruder = APIClient()
    intruder.force_authenticate(make_user())
    other_session = APIClient()
    other_session.credentials(HTTP_X_SESSION_ID=str(uuid.uuid4()))
    for client in (intruder, other_session, APIClient()):
        for target in (cid, anon_cid):
            assert client.get(f"/api/conversion/{target}").status_code == 404
            assert client.get(f"/api/conversion/{target}/download").status_code == 404
            assert client.post(f"/api/conversion/{target}/cancel").status_code == 404
        assert client.get(f"/api/conversion/batch/{batch}/download").status_code == 404
        assert client.delete(f"/api/files/{file_id}").status_code == 404
        assert client.get("/api/conversion/history").json()["count"] == 0
        assert client.get("/api/files/").json()["count"] == 0
    # the anonymous owner sees theirs with the session id, not the user's
    assert APIClient().get(f"/api/conversion/{anon_cid}", {"session_id": anon_sid}).status_code == 200
    assert APIClient().get(f"/api/conversion/{cid}", {"session_id": anon_sid}).status_code == 404
    assert StoredFile.objects.filter(pk=file_id, is_deleted=False).exists()


def test_delete_file_removes_bytes_and_marks_row(api_client, make_user, sample):
    api_client.force_authenticate(make_user())
    upload(api_client, [sample("png")], "jpg")
    stored = StoredFile.objects.get(kind="converted")
    assert default_storage.exists(stored.storage_name)
    assert api_client.delete(f"/api/files/{stored.pk}").status_code == 204
    stored.refresh_from_db()
    assert stored.is_deleted and stored.deleted_at is not None
    assert not default_storage.exists(stored.storage_name)
    listed = {f["id"]: f for f in api_client.get("/api/files/").json()["results"]}
    assert listed[str(stored.pk)]["is_deleted"] is True


def test_signup_adopts_anonymous_conversions(api_client, sample):
    body = upload(api_client, [sample("png")], "jpg").json()
    resp = APIClient().post("/api/auth/register", {"email": "adopta@example.com",
                                                   "password": "Secreta123!",
                                                   "session_id": body["session_id"]}, format="json")
    assert resp.status_code == 201
    user_client = APIClient()
    user_client.credentials(HTTP_AUTHORIZATION=f"Bearer {resp.json()['access_token']}")
    history = user_client.get("/api/conversion/history").json()
    assert [c["id"] for c in history["results"]] == [body["conversions"][0]["id"]]
    assert user_client.get("/api/files/").json()["count"] == 2


# --- bad input ----------------------------------------------------------------------
def _no_rows():
    return not StoredFile.objects.exists() and not Conversion.objects.exists()


def test_png_named_pdf_is_415_and_nothing_stored(api_client, sample):
    resp = upload(api_client, [sample("png")], "docx", names=["informe.pdf"])
    assert resp.status_code == 415 and resp.json()["code"] == "content_mismatch"
    assert _no_rows()


def test_empty_file_is_400(api_client, tmp_path):
    empty = tmp_path / "vacio.png"
    empty.write_bytes(b"")
    resp = upload(api_client, [empty], "jpg")
    assert resp.status_code == 400 and resp.json()["code"] == "empty_file"
    assert _no_rows()


def test_one_bad_file_in_a_batch_stores_nothing(api_client, sample, tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x00\x01not an image at all" * 10)
    resp = upload(api_client, [sample("png"), junk], "jpg")
    assert resp.status_code == 415
    assert _no_rows()


@pytest.mark.parametrize("target,code", [("xyz", "unsupported_format"), ("mp3", "unsupported_pair"),
                                         ("png", "same_format")])
def test_bad_targets_are_400(api_client, sample, target, code):
    resp = upload(api_client, [sample("png")], target)
    assert resp.status_code == 400 and resp.json()["code"] == code
    assert "target_format" in resp.json()["details"]


def test_bad_quality_and_missing_file(api_client, sample):
    resp = upload(api_client, [sample("png")], "jpg", quality="ultra")
    assert resp.status_code == 400 and "quality" in resp.json()["details"]
    resp = api_client.post("/api/conversion/convert", {"target_format": "jpg"}, format="multipart")
    assert resp.status_code == 400 and "file" in resp.json()["details"]


def test_over_plan_size_is_413(api_client, sample):
    SubscriptionPlan.objects.filter(slug="gratuito").update(max_file_size_mb=0)
    resp = upload(api_client, [sample("png")], "jpg")
    assert resp.status_code == 413 and resp.json()["code"] == "file_too_large"
    assert _no_rows()


def test_over_installation_limit_is_413_before_reading(api_client, settings):
    settings.MAX_UPLOAD_MB = 0
    resp = api_client.post("/api/conversion/convert", {"target_format": "jpg"}, format="multipart")
    assert resp.status_code == 413


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "..\\..\\boot.png", "a\x00b.png",
                                  "\u202egnp.exe.png", "x" * 300 + ".png", "/abs/path/photo.png"])
def test_hostile_filenames_are_neutralised(api_client, sample, name):
    resp = upload(api_client, [sample("png")], "jpg", names=[name])
    assert resp.status_code == 202, resp.content
    stored = StoredFile.objects.get(kind="original")
    for text in (stored.storage_name, stored.original_filename):
        assert ".." not in text and "\\" not in text and "\x00" not in text and "\u202e" not in text
    assert not stored.original_filename.startswith("/")
    assert len(stored.original_filename) <= 120
    assert stored.storage_name.count("/") == 4  # YYYY/MM/DD/original/<name>
    detail = api_client.get(resp.json()["conversions"][0]["download_url"] or
                            resp.json()["conversions"][0]["status_url"],
                            {"session_id": resp.json()["session_id"]})
    assert detail.status_code == 200


def test_text_file_with_unknown_extension_uses_content(api_client, tmp_path):
    path = tmp_path / "notas"
    path.write_text("Hola mundo, esto es texto plano.\n", encoding="utf-8")
    resp = upload(api_client, [path], "pdf")
    assert resp.status_code == 202, resp.content
    cid = resp.json()["conversions"][0]["id"]
    conversion = Conversion.objects.get(pk=cid)
    assert conversion.original_format == "txt" and conversion.status == "completed"


# --- queue ------------------------------------------------------------
# The formats endpoint: conversions/tests/test_formats_endpoint.py


def test_queue_status_counts_real_jobs(api_client, sample, no_worker):
    empty = api_client.get("/api/conversion/queue/status").json()["queue_status"]
    assert empty == {"pending_conversions": 0, "processing_conversions": 0,
                     "average_wait_time_minutes": 0.0, "server_load": "low"}
    upload(api_client, [sample("png"), sample("png"), sample("png")], "jpg")
    status = api_client.get("/api/conversion/queue/status").json()["queue_status"]
    assert status["pending_conversions"] == 3 and status["server_load"] == "medium"
