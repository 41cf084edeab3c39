"""Issue 14, the convert page's API side: a batch whose files go to different targets
(`target_formats`), "convert again" from the stored source, and the queue estimate of a pending job."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from conversions import selectors
from conversions.models import Conversion
from factories import ConversionFactory, upload
from storage import services as storage_services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]


def _zip_names(api_client, batch_id):
    zipped = api_client.get(f"/api/conversion/batch/{batch_id}/download")
    assert zipped.status_code == 200, zipped.content
    return sorted(zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content))).namelist())


# --- per-file targets ------------------------------------------------------------------------------
def test_batch_with_a_target_per_file(api_client, make_user, sample):
    api_client.force_authenticate(make_user())
    resp = upload(api_client, [sample("jpg", "foto.jpg"), sample("png", "logo.png")], "webp",
                  target_formats=["png", "gif"])
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert [(c["original_filename"], c["target_format"]) for c in body["conversions"]] == [
        ("foto.jpg", "png"), ("logo.png", "gif")]
    assert {c["status"] for c in Conversion.objects.values("status")} == {"completed"}
    assert _zip_names(api_client, body["batch_id"]) == ["foto.png", "logo.gif"]


def test_without_target_formats_every_file_goes_to_target_format(api_client, make_user, sample):
    api_client.force_authenticate(make_user())
    resp = upload(api_client, [sample("jpg"), sample("png")], "webp")
    assert resp.status_code == 202, resp.content
    assert {c["target_format"] for c in resp.json()["conversions"]} == {"webp"}


def test_target_formats_must_match_the_files(api_client, make_user, sample):
    api_client.force_authenticate(make_user())
    resp = upload(api_client, [sample("jpg"), sample("png")], "webp", target_formats=["png"])
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_target_formats"
    assert "target_formats" in resp.json()["details"]
    assert not Conversion.objects.exists()


def test_a_target_invalid_for_its_file_refuses_the_whole_batch(api_client, make_user, sample):
    api_client.force_authenticate(make_user())
    resp = upload(api_client, [sample("jpg"), sample("png")], "webp", target_formats=["png", "mp3"])
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == "unsupported_pair"
    assert not Conversion.objects.exists()


def test_target_formats_only_with_files(api_client, make_user):
    import uuid

    api_client.force_authenticate(make_user())
    resp = api_client.post("/api/conversion/convert", {"upload_id": str(uuid.uuid4()), "target_format": "png",
                                                       "target_formats": ["png"]}, format="multipart")
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_target_formats"


def test_quote_prices_each_file_at_its_own_target(api_client, make_user):
    api_client.force_authenticate(make_user())
    resp = api_client.post("/api/payments/quote", {
        "files": [{"name": "a.jpg", "source_format": "jpg", "size_bytes": 1000, "target_format": "png"},
                  {"name": "b.docx", "source_format": "docx", "size_bytes": 1000, "target_format": "pdf"},
                  {"name": "c.png", "source_format": "png", "size_bytes": 1000}],
        "target_format": "webp"}, format="json")
    assert resp.status_code == 200, resp.content
    assert [f["target_format"] for f in resp.json()["files"]] == ["png", "pdf", "webp"]


# --- convert again ----------------------------------------------------------------------------------
def test_convert_again_reuses_the_stored_source_in_the_same_batch(api_client, make_user, sample):
    api_client.force_authenticate(make_user())
    first = upload(api_client, [sample("png", "plano.png")], "jpg").json()["conversions"][0]
    assert first["source_available"] is True
    resp = api_client.post(f"/api/conversion/{first['id']}/convert-again", {"target_format": "webp"},
                           format="json")
    assert resp.status_code == 202, resp.content
    (again,) = resp.json()["conversions"]
    assert again["target_format"] == "webp" and again["batch_id"] == first["batch_id"]
    assert again["original_filename"] == "plano.png" and again["quality"] == first["quality"]
    new, old = Conversion.objects.get(pk=again["id"]), Conversion.objects.get(pk=first["id"])
    assert new.source_id == old.source_id  # no second upload
    assert new.status == "completed"
    assert _zip_names(api_client, first["batch_id"]) == ["plano.jpg", "plano.webp"]


def test_convert_again_after_the_source_was_deleted_is_410(api_client, make_user, sample):
    api_client.force_authenticate(make_user())
    first = upload(api_client, [sample("png")], "jpg").json()["conversions"][0]
    storage_services.stored_file_delete(stored_file=Conversion.objects.get(pk=first["id"]).source)
    detail = api_client.get(f"/api/conversion/{first['id']}").json()
    assert detail["source_available"] is False
    resp = api_client.post(f"/api/conversion/{first['id']}/convert-again", {"target_format": "webp"},
                           format="json")
    assert resp.status_code == 410
    assert resp.json()["code"] == "source_gone"
    assert Conversion.objects.count() == 1


def test_convert_again_refuses_an_invalid_target_and_another_owners_job(api_client, make_user, sample):
    owner = make_user()
    api_client.force_authenticate(owner)
    first = upload(api_client, [sample("png")], "jpg").json()["conversions"][0]
    bad = api_client.post(f"/api/conversion/{first['id']}/convert-again", {"target_format": "mp3"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "unsupported_pair"
    same = api_client.post(f"/api/conversion/{first['id']}/convert-again", {"target_format": "png"}, format="json")
    assert same.status_code == 400 and same.json()["code"] == "same_format"
    api_client.force_authenticate(make_user())
    other = api_client.post(f"/api/conversion/{first['id']}/convert-again", {"target_format": "webp"},
                            format="json")
    assert other.status_code == 404
    assert Conversion.objects.count() == 1


# --- queue estimate ---------------------------------------------------------------------------------
def _finished(fmt, seconds, user=None):
    now = timezone.now()
    extra = {"user": user} if user else {}
    return ConversionFactory(status="completed", original_format=fmt, started_at=now - timedelta(seconds=seconds),
                             finished_at=now, **extra)


def test_average_durations_per_family_and_overall():
    _finished("png", 4)
    _finished("jpg", 6)
    _finished("docx", 20)
    averages = selectors.conversion_average_durations()
    assert averages["images"] == pytest.approx(5)
    assert averages["documents"] == pytest.approx(20)
    assert averages[None] == pytest.approx(10)
    old = _finished("png", 100)
    Conversion.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=30))
    assert selectors.conversion_average_durations()["images"] == pytest.approx(5)  # outside the window


def test_queue_estimate_counts_the_jobs_ahead(settings):
    settings.CONVERSION_WORKERS = 1
    assert selectors.conversion_queue_estimate(conversion=ConversionFactory()) == {
        "position": 1, "estimated_seconds": None}  # nothing completed lately: no guess
    Conversion.objects.all().delete()
    _finished("png", 4)
    _finished("docx", 20)
    ConversionFactory(status="processing", original_format="docx")
    ahead = ConversionFactory(original_format="png")
    mine = ConversionFactory(original_format="png")
    ConversionFactory(original_format="png")  # queued after: not ahead
    estimate = selectors.conversion_queue_estimate(conversion=mine)
    assert estimate == {"position": 2, "estimated_seconds": 20 + 4 + 4}
    assert selectors.conversion_queue_estimate(conversion=ahead)["position"] == 1
    settings.CONVERSION_WORKERS = 2
    assert selectors.conversion_queue_estimate(conversion=mine)["estimated_seconds"] == 12 + 4
    assert selectors.conversion_queue_estimate(conversion=Conversion.objects.filter(
        status="completed").first()) is None


def test_a_priority_job_is_ahead_of_earlier_ordinary_ones(settings):
    settings.CONVERSION_WORKERS = 1
    _finished("png", 5)
    ordinary = ConversionFactory(original_format="png")
    urgent = ConversionFactory(original_format="png", priority=True)
    assert selectors.conversion_queue_estimate(conversion=urgent)["position"] == 1
    assert selectors.conversion_queue_estimate(conversion=ordinary)["position"] == 2


def test_status_json_has_the_queue_estimate_while_pending(api_client, make_user, sample, no_worker):
    user = make_user()
    api_client.force_authenticate(user)
    _finished("png", 3, user=user)
    first = upload(api_client, [sample("png")], "jpg").json()["conversions"][0]
    detail = api_client.get(f"/api/conversion/{first['id']}").json()
    assert detail["status"] == "pending"
    assert detail["queue"]["position"] == 1 and detail["queue"]["estimated_seconds"] == 3
    for key in ("id", "status", "progress", "error", "download_url", "options", "fetching"):
        assert key in detail  # nothing removed
    history = api_client.get("/api/conversion/history").json()["results"]
    assert {item["queue"] is None for item in history if item["status"] == "completed"} == {True}
    Conversion.objects.filter(pk=first["id"]).update(status="processing")
    assert api_client.get(f"/api/conversion/{first['id']}").json()["queue"] is None


def test_the_status_endpoint_reads_the_averages_through_a_short_cache(django_assert_max_num_queries):
    _finished("png", 4)
    assert selectors.conversion_average_durations_cached()["images"] == pytest.approx(4)
    _finished("png", 40)  # not seen until the cache entry expires
    with django_assert_max_num_queries(0):
        assert selectors.conversion_average_durations_cached()["images"] == pytest.approx(4)
    assert selectors.conversion_average_durations()["images"] == pytest.approx(22)
