import pytest

from accounts.models import User
from conversions.models import Conversion
from factories import upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client, make_user, otp_login):
    staff = make_user()
    User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
    return otp_login(client, User.objects.get(pk=staff.pk))


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
