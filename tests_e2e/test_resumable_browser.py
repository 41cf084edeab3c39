"""The convert page sends a file above the threshold as a resumable (tus) upload in chunks and
resumes after a dropped connection (threshold and chunk size lowered for the test)."""

import pytest

from conversions.tests import enginefiles
from uploads.models import ResumableUpload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_big_file_goes_in_chunks_and_survives_a_dropped_connection(page, settings, tmp_path):
    settings.RESUMABLE_UPLOAD_THRESHOLD_MB = 0
    settings.RESUMABLE_UPLOAD_CLIENT_CHUNK_KB = 1
    photo = enginefiles.make_image(tmp_path / "foto.jpg", "jpg", size=(320, 240))
    assert photo.stat().st_size > 2 * 1024
    seen = []

    def handle(route, request):
        seen.append(request.method)
        if request.method == "PATCH" and seen.count("PATCH") == 2:
            route.abort("connectionreset")  # the second chunk is lost on the way
        else:
            route.continue_()

    page.route("**/api/uploads/**", handle)
    page.goto("/")
    page.set_input_files("#id_file", str(photo))
    page.get_by_text("Detectado: JPG").wait_for()
    page.select_option("#id_target_format", "png")
    page.get_by_role("button", name="Convertir").click()
    page.locator("#result-list .status-completed").wait_for(timeout=60000)
    assert seen[0] == "POST" and "HEAD" in seen
    assert seen.count("PATCH") >= photo.stat().st_size // 1024 + 1
    assert not ResumableUpload.objects.exists()  # converted: the chunks are gone
    with page.expect_download() as info:
        page.locator("#result-list a.button").click()
    assert open(info.value.path(), "rb").read()[:8] == b"\x89PNG\r\n\x1a\n"
