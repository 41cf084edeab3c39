"""Real progress: FFmpeg's out_time against the input duration, saved at a bounded rate."""

from __future__ import annotations

import pytest
from django.db import connection

from conversions import services
from conversions.models import Conversion
from conversions.tests import enginefiles as ef

pytestmark = pytest.mark.django_db(transaction=True)


class ProgressWrites:
    """Every progress value a job saves, as the database and the status endpoint show it right
    after the UPDATE (a nested read in the same thread: no sampling, no sleeps)."""

    def __init__(self, conversion_id, client=None) -> None:
        self.conversion_id = conversion_id
        self.client = client
        self.values: list[int] = []
        self.endpoint: list[int] = []
        self._inside = False

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if (not self._inside and sql.startswith("UPDATE") and '"progress"' in sql
                and "conversions_conversion" in sql):
            self._inside = True
            try:
                self.values.append(Conversion.objects.values_list("progress", flat=True)
                                   .get(pk=self.conversion_id))
                if self.client is not None:
                    response = self.client.get(f"/api/conversion/{self.conversion_id}")
                    self.endpoint.append(response.json()["progress"])
            finally:
                self._inside = False
        return result


def upload(client, paths, target):
    """POST the files anonymously to the convert endpoint (this module's own helper)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile(p.name, p.read_bytes()) for p in paths]
    return client.post("/api/conversion/convert", {"file": files, "target_format": target}, format="multipart")


def _processing(api_client, path, target):
    body = upload(api_client, [path], target).json()
    cid = body["conversions"][0]["id"]
    assert services.conversion_claim(conversion_id=cid)
    return cid


def test_ten_second_video_reports_increasing_progress(api_client, tmp_path, no_worker):
    video = ef.make_video(tmp_path / "clip.avi", "avi", seconds=10, size="640x480", rate=25)
    cid = upload(api_client, [video], "mp4").json()["conversions"][0]["id"]
    writes = ProgressWrites(cid, api_client)
    with connection.execute_wrapper(writes):
        assert services.conversion_execute(conversion_id=cid) == "completed"
    during = [v for v in writes.values if 0 < v < 100]
    assert len(during) >= 5, writes.values
    assert during == sorted(set(during))  # strictly increasing, never back
    assert writes.values[-1] == 100
    assert writes.endpoint == writes.values  # what the page's bar polls


def test_progress_saver_bounds_the_write_rate(api_client, sample, no_worker):
    cid = _processing(api_client, sample("png"), "jpg")
    now = {"t": 0.0}
    report = services._progress_reporter(cid, clock=lambda: now["t"])
    writes = ProgressWrites(cid)
    with connection.execute_wrapper(writes):
        for percent in range(1, 100):  # an engine reporting every point at the same instant
            report(percent)
        burst = list(writes.values)
        report(50)  # never backwards
        report(150)  # clamped below 100 (100 is the completion's)
    assert burst[0] == 1, writes.values
    assert all(b - a >= 2 for a, b in zip(burst, burst[1:], strict=False))  # every 2 points at most
    assert len(burst) <= 50
    assert writes.values[len(burst):] == []  # 99 already saved: nothing left to write

    cid2 = _processing(api_client, sample("png"), "jpg")
    report = services._progress_reporter(cid2, clock=lambda: now["t"])
    writes = ProgressWrites(cid2)
    with connection.execute_wrapper(writes):
        report(10)
        report(11)  # 1 point, same instant: not saved
        now["t"] += 0.6
        report(11)  # half a second later: saved
        report(12)
    assert writes.values == [10, 11]
