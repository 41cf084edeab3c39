import pytest

from conversions.models import Conversion
from factories import VerifiedStaffFactory, upload

# after-commit work (the eager worker) runs at the end of each request: no real transactions needed
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]


@pytest.fixture
def staff_client(client, otp_login):
    return otp_login(client, VerifiedStaffFactory(is_superuser=True))


def test_admin_pages_and_retry(staff_client, api_client, sample, monkeypatch):
    from conversions.engines.base import EngineError
    from conversions.engines.pillow import PillowEngine

    original = PillowEngine.convert

    def broken(self, *args, **kwargs):
        raise EngineError("roto", code="broken")

    monkeypatch.setattr(PillowEngine, "convert", broken)
    upload(api_client, [sample("png")], "jpg")
    conversion = Conversion.objects.get()
    assert conversion.status == "failed"
    for url in ("/admin/conversions/conversion/", f"/admin/conversions/conversion/{conversion.pk}/change/",
                "/admin/storage/storedfile/"):
        assert staff_client.get(url).status_code == 200, url
    monkeypatch.setattr(PillowEngine, "convert", original)
    staff_client.post("/admin/conversions/conversion/", {"action": "retry_conversions",
                                                        "_selected_action": [str(conversion.pk)]})
    conversion.refresh_from_db()
    assert conversion.status == "completed"
